/// Where each block of an LDM UNet sits in its key layout: the one statement of the
/// `input_blocks.N` / `output_blocks.N` arithmetic, for the model, the configuration detector
/// and the diffusers key map.
///
/// `input_blocks.0` is `conv_in`. After it, each level holds `resBlocksPerLevel` ResBlocks (`.0`,
/// with a spatial transformer at `.1` on attention levels), then, on every level but the deepest,
/// a Downsample. `output_blocks` run deepest level first with `resBlocksPerLevel + 1` blocks a
/// level; the last block of each level but level 0 ends with an Upsample at the next free slot.
struct UNetKeyLayout: Sendable {
    let levels: Int
    let resBlocksPerLevel: Int

    init(_ config: UNetConfiguration) {
        (levels, resBlocksPerLevel) = (config.channelMultipliers.count, config.resBlocksPerLevel)
    }

    /// Blocks a level takes in either direction: its ResBlocks plus a Downsample or, going up, one
    /// more ResBlock for the extra skip connection.
    private var blocksPerLevel: Int { resBlocksPerLevel + 1 }

    /// `input_blocks.N` of ResBlock `index` of `level`.
    func inputBlock(level: Int, index: Int) -> String {
        "input_blocks.\(1 + blocksPerLevel * level + index)"
    }

    /// The Downsample that ends `level` (every level but the deepest).
    func downsample(level: Int) -> String { inputBlock(level: level, index: resBlocksPerLevel) + ".0" }

    /// `output_blocks.N` of block `index` (0…resBlocksPerLevel) of `level`.
    func outputBlock(level: Int, index: Int) -> String {
        "output_blocks.\(blocksPerLevel * (levels - 1 - level) + index)"
    }

    /// The Upsample ending `level`'s last output block: after the transformer when there is one.
    func upsample(level: Int, hasAttention: Bool) -> String {
        outputBlock(level: level, index: resBlocksPerLevel) + (hasAttention ? ".2" : ".1")
    }

    /// Whether output block `index` of `level` ends with an Upsample.
    func hasUpsample(level: Int, index: Int) -> Bool { level > 0 && index == resBlocksPerLevel }
}
