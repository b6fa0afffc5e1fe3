import LatentflowTensor

/// The SD-family denoising UNet (LDM `UNetModel`), built from a configuration and weights in
/// the LDM key layout (`input_blocks.*`, `middle_block.*`, `output_blocks.*`).
public struct UNet: Sendable {
    public let config: UNetConfiguration
    let timeEmbed: (Linear, Linear)
    /// The LCM guidance-scale projection (key `time_embed.cond_proj`, diffusers `time_embedding.cond_proj`).
    let guidanceProjection: Linear?
    let convIn: Conv2D
    /// Input blocks after `conv_in`, in key order: a ResBlock (+ transformer), or a Downsample.
    let inputBlocks: [(res: ResBlock?, attention: SpatialTransformer?, down: Downsample?)]
    let middle: (ResBlock, SpatialTransformer, ResBlock)
    /// Output blocks in key order: ResBlock (+ transformer) (+ Upsample).
    let outputBlocks: [(res: ResBlock, attention: SpatialTransformer?, up: Upsample?)]
    let outNorm: GroupNorm, convOut: Conv2D

    public init(_ scope: WeightScope, config: UNetConfiguration) {
        self.config = config
        let mc = config.modelChannels, embed = config.timeEmbedDim
        timeEmbed = (Linear(scope["time_embed.0"], in: mc, out: embed), Linear(scope["time_embed.2"], in: embed, out: embed))
        guidanceProjection = config.guidanceEmbeddingDim.map { Linear(scope["time_embed.cond_proj"], in: $0, out: mc, bias: false) }
        convIn = Conv2D(scope["input_blocks.0.0"], in: config.inChannels, out: mc, kernel: 3)

        // input_blocks.{k}: k counts every ResBlock(+transformer) and every Downsample after conv_in.
        var blocks: [(ResBlock?, SpatialTransformer?, Downsample?)] = []
        var skipChannels = [mc]
        var channels = mc
        let levels = config.channelMultipliers.count
        for (level, multiplier) in config.channelMultipliers.enumerated() {
            for _ in 0..<config.resBlocksPerLevel {
                let block = scope["input_blocks.\(blocks.count + 1)"]
                let out = mc * multiplier
                let res = ResBlock(block["0"], in: channels, out: out, embedDim: embed)
                let attention = config.attentionLevels[level] ? SpatialTransformer(block["1"], channels: out, config: config) : nil
                blocks.append((res, attention, nil))
                channels = out
                skipChannels.append(channels)
            }
            if level < levels - 1 {
                blocks.append((nil, nil, Downsample(scope["input_blocks.\(blocks.count + 1)"]["0"], channels: channels)))
                skipChannels.append(channels)
            }
        }
        inputBlocks = blocks
        middle = (ResBlock(scope["middle_block.0"], in: channels, out: channels, embedDim: embed),
                  SpatialTransformer(scope["middle_block.1"], channels: channels, config: config),
                  ResBlock(scope["middle_block.2"], in: channels, out: channels, embedDim: embed))

        // output_blocks.{k}: per level (deepest first) resBlocksPerLevel + 1 blocks; the last of a
        // level (except level 0) ends with an Upsample at the next free sub-index.
        var outputs: [(ResBlock, SpatialTransformer?, Upsample?)] = []
        for level in (0..<levels).reversed() {
            let out = mc * config.channelMultipliers[level]
            for i in 0...config.resBlocksPerLevel {
                let block = scope["output_blocks.\(outputs.count)"]
                let res = ResBlock(block["0"], in: channels + skipChannels.removeLast(), out: out, embedDim: embed)
                channels = out
                let attention = config.attentionLevels[level] ? SpatialTransformer(block["1"], channels: out, config: config) : nil
                let up = (level > 0 && i == config.resBlocksPerLevel)
                    ? Upsample(block[attention == nil ? "1" : "2"], channels: out) : nil
                outputs.append((res, attention, up))
            }
        }
        outputBlocks = outputs
        outNorm = GroupNorm(scope["out.0"], channels: channels, epsilon: 1e-5)
        convOut = Conv2D(scope["out.2"], in: channels, out: config.outChannels, kernel: 3)
    }

    /// The model output (ε or v) for latents `x` `[N, C, H, W]` at `timesteps` (one per sample)
    /// given text `context` `[N, T, contextDim]`.
    /// - Parameter guidance: for LCM-distilled UNets, the guidance scale w the embedding encodes
    ///   (diffusers passes `guidance_scale − 1`); ignored by other UNets.
    public func callAsFunction(_ x: Tensor, timesteps: [Float], context: Tensor, guidance: Float? = nil) throws -> Tensor {
        var features = timestepEmbedding(timesteps, dim: config.modelChannels)
        if let guidanceProjection, let dim = config.guidanceEmbeddingDim {
            let w = guidanceScaleEmbedding(Array(repeating: guidance ?? 7.5, count: timesteps.count), dim: dim)
            features = try features.adding(guidanceProjection(w))
        }
        let embedding = try timeEmbed.1(timeEmbed.0(features).silu()).silu()       // SiLU'd once for every ResBlock
        var h = try convIn(x)
        var skips = [h]
        for block in inputBlocks {
            if let down = block.down { h = try down(h) } else {
                h = try block.res!(h, embedding)
                if let attention = block.attention { h = try attention(h, context: context) }
            }
            skips.append(h)
        }
        h = try middle.0(h, embedding)
        h = try middle.1(h, context: context)
        h = try middle.2(h, embedding)
        for block in outputBlocks {
            h = try block.res(Tensor.concat([h, skips.removeLast()], axis: 1), embedding)
            if let attention = block.attention { h = try attention(h, context: context) }
            if let up = block.up {
                let next = skips.last!
                h = try up(h, size: (next.dim(2), next.dim(3)))
            }
        }
        return try convOut(outNorm(h, silu: true))
    }
}
