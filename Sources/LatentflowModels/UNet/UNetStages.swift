import LatentflowTensor

/// One of the UNet's `input_blocks` after `conv_in`: its output is also a skip connection.
/// The encoder half shared by the UNet and ControlNet: per level, its ResBlocks (each followed by a
/// spatial transformer on attention levels, made by `transformer`), then a downsampler on every level
/// but the last. Returns the blocks, the channel count of every skip connection (the ControlNet's
/// zero convolutions have one each) and the channel count the middle block receives.
func makeUNetInputBlocks(
    _ scope: WeightScope, config: UNetConfiguration,
    transformer: (WeightScope, _ channels: Int, _ level: Int) -> SpatialTransformer
) -> (blocks: [UNetInputBlock], skipChannels: [Int], channels: Int) {
    let layout = UNetKeyLayout(config)
    let mc = config.modelChannels
    var blocks: [UNetInputBlock] = []
    var skipChannels = [mc]
    var channels = mc
    let levels = config.channelMultipliers.count
    for (level, multiplier) in config.channelMultipliers.enumerated() {
        for index in 0..<config.resBlocks(level: level) {
            let block = scope[layout.inputBlock(level: level, index: index)]
            let out = mc * multiplier
            let res = ResBlock(block["0"], in: channels, out: out, embedDim: config.timeEmbedDim)
            let attention = config.attentionLevels[level] ? transformer(block["1"], out, level) : nil
            blocks.append(.residual(res, attention: attention))
            channels = out
            skipChannels.append(channels)
        }
        if level < levels - 1 {
            blocks.append(.downsample(Downsample(scope[layout.downsample(level: level)], channels: channels)))
            skipChannels.append(channels)
        }
    }
    return (blocks, skipChannels, channels)
}

enum UNetInputBlock: Sendable {
    /// A ResBlock, followed by a spatial transformer on attention levels.
    case residual(ResBlock, attention: SpatialTransformer?)
    /// The stride-2 convolution that ends a level.
    case downsample(Downsample)

    func callAsFunction(
        _ x: Tensor, embedding: Tensor, context: Tensor, patch: (any TransformerMiddlePatch)? = nil,
        attention patches: AttentionPatchCall? = nil
    ) throws -> Tensor {
        switch self {
        case let .downsample(down):
            return try down(x)
        case let .residual(res, attention):
            let h = try res(x, embedding)
            return try attention.map { try $0(h, context: context, patch: patch, attention: patches) } ?? h
        }
    }
}

/// The UNet's `middle_block` at the deepest level: ResBlock, spatial transformer, ResBlock, or
/// (ComfyUI's `transformer_depth_middle` -1) the first ResBlock alone.
struct UNetMiddleBlock: Sendable {
    let first: ResBlock
    let attention: SpatialTransformer?
    let second: ResBlock?

    /// - Parameter selfAttention: replaces its transformer blocks' self-attention (ComfyUI's
    ///   `attn1` replace patch at `("middle", 0)`).
    func callAsFunction(
        _ x: Tensor, embedding: Tensor, context: Tensor, patch: (any TransformerMiddlePatch)? = nil,
        attention patches: AttentionPatchCall? = nil, selfAttention: AttentionReplacement? = nil
    ) throws -> Tensor {
        var h = try first(x, embedding)
        if let attention {
            h = try attention(h, context: context, patch: patch, attention: patches, selfAttention: selfAttention)
        }
        if let second { h = try second(h, embedding) }
        return h
    }
}

/// One of the UNet's `output_blocks`: a ResBlock over the features joined with a skip connection,
/// a spatial transformer on attention levels, and an Upsample at the end of a level.
struct UNetOutputBlock: Sendable {
    let res: ResBlock
    let attention: SpatialTransformer?
    let upsample: Upsample?

    /// - Parameter upsampledSize: the size of the skip connection the next block joins, which the
    ///   Upsample restores (odd sizes included).
    func callAsFunction(
        _ x: Tensor, skip: Tensor, embedding: Tensor, context: Tensor,
        upsampledSize: (height: Int, width: Int)?, patch: (any TransformerMiddlePatch)? = nil,
        attention patches: AttentionPatchCall? = nil
    ) throws -> Tensor {
        var h = try res(Tensor.concat([x, skip], axis: 1), embedding)
        if let attention { h = try attention(h, context: context, patch: patch, attention: patches) }
        if let upsample { h = try upsample(h, size: upsampledSize) }
        return h
    }
}
