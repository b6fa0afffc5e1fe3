/// Where each block of an LDM UNet sits in its key layout: the one statement of the
/// `input_blocks.N` / `output_blocks.N` arithmetic, for the model, the configuration detector
/// and the diffusers key map.
///
/// `input_blocks.0` is `conv_in`. After it, each level holds its ResBlocks (`.0`, with a spatial
/// transformer at `.1` on attention levels), then, on every level but the deepest, a Downsample.
/// `output_blocks` run deepest level first with one block more than the level's ResBlocks; the
/// last block of each level but level 0 ends with an Upsample at the next free slot. SD1.x/2.x
/// have the same count on every level; SDXS-style pruned UNets differ per level (ComfyUI's
/// `num_res_blocks` list).
struct UNetKeyLayout: Sendable {
    /// ResBlocks on each level, shallowest first.
    let resBlocks: [Int]

    init(_ config: UNetConfiguration) {
        resBlocks = (0..<config.channelMultipliers.count).map { config.resBlocks(level: $0) }
    }

    var levels: Int { resBlocks.count }

    /// Blocks `level` takes in either direction: its ResBlocks plus a Downsample or, going up, one
    /// more ResBlock for the extra skip connection.
    private func blocks(level: Int) -> Int { resBlocks[level] + 1 }

    /// `input_blocks.N` of ResBlock `index` of `level`.
    func inputBlock(level: Int, index: Int) -> String {
        "input_blocks.\(1 + (0..<level).reduce(0) { $0 + blocks(level: $1) } + index)"
    }

    /// The Downsample that ends `level` (every level but the deepest).
    func downsample(level: Int) -> String { inputBlock(level: level, index: resBlocks[level]) + ".0" }

    /// `output_blocks.N` of block `index` (0…resBlocks[level]) of `level`.
    func outputBlock(level: Int, index: Int) -> String {
        "output_blocks.\((level + 1..<levels).reduce(0) { $0 + blocks(level: $1) } + index)"
    }

    /// The Upsample ending `level`'s last output block: after the transformer when there is one.
    func upsample(level: Int, hasAttention: Bool) -> String {
        outputBlock(level: level, index: resBlocks[level]) + (hasAttention ? ".2" : ".1")
    }

    /// Whether output block `index` of `level` ends with an Upsample.
    func hasUpsample(level: Int, index: Int) -> Bool { level > 0 && index == resBlocks[level] }
}
