import LatentflowTensor

/// The SD-family denoising UNet (LDM `UNetModel`), built from a configuration and weights in
/// the LDM key layout (`input_blocks.*`, `middle_block.*`, `output_blocks.*`).
public struct UNet: Sendable {
    public let config: UNetConfiguration
    let timeEmbed: (Linear, Linear)
    /// The LCM guidance-scale projection (key `time_embed.cond_proj`, diffusers `time_embedding.cond_proj`).
    let guidanceProjection: Linear?
    let convIn: Conv2D
    /// Input blocks after `conv_in`, in key order.
    let inputBlocks: [UNetInputBlock]
    /// None in SDXS-style UNets without a middle block.
    let middle: UNetMiddleBlock?
    /// Output blocks in key order (deepest level first).
    let outputBlocks: [UNetOutputBlock]
    let outNorm: GroupNorm, convOut: Conv2D

    public init(_ scope: WeightScope, config: UNetConfiguration) {
        self.config = config
        let mc = config.modelChannels, embed = config.timeEmbedDim
        timeEmbed = (
            Linear(scope["time_embed.0"], in: mc, out: embed), Linear(scope["time_embed.2"], in: embed, out: embed)
        )
        guidanceProjection = config.guidanceEmbeddingDim.map {
            Linear(scope["time_embed.cond_proj"], in: $0, out: mc, bias: false)
        }
        convIn = Conv2D(scope["input_blocks.0.0"], in: config.inChannels, out: mc, kernel: 3)

        let layout = UNetKeyLayout(config)
        var transformers = 0  // spatial transformers so far: each one's index
        func transformer(_ scope: WeightScope, channels: Int) -> SpatialTransformer {
            defer { transformers += 1 }
            return SpatialTransformer(scope, channels: channels, config: config, index: transformers)
        }
        let encoder = makeUNetInputBlocks(scope, config: config) { transformer($0, channels: $1) }
        inputBlocks = encoder.blocks
        var (skipChannels, channels) = (encoder.skipChannels, encoder.channels)
        let levels = config.channelMultipliers.count
        switch config.middleBlock {
        case .full:
            middle = UNetMiddleBlock(
                first: ResBlock(scope["middle_block.0"], in: channels, out: channels, embedDim: embed),
                attention: transformer(scope["middle_block.1"], channels: channels),
                second: ResBlock(scope["middle_block.2"], in: channels, out: channels, embedDim: embed))
        case .resBlockOnly:
            middle = UNetMiddleBlock(
                first: ResBlock(scope["middle_block.0"], in: channels, out: channels, embedDim: embed),
                attention: nil, second: nil)
        case .none:
            middle = nil
        }

        var outputs: [UNetOutputBlock] = []
        for level in (0..<levels).reversed() {
            let out = mc * config.channelMultipliers[level]
            let hasAttention = config.attentionLevels[level]
            for index in 0...config.resBlocks(level: level) {
                let block = scope[layout.outputBlock(level: level, index: index)]
                let res = ResBlock(block["0"], in: channels + skipChannels.removeLast(), out: out, embedDim: embed)
                channels = out
                let attention = hasAttention ? transformer(block["1"], channels: out) : nil
                let upsample =
                    layout.hasUpsample(level: level, index: index)
                    ? Upsample(scope[layout.upsample(level: level, hasAttention: hasAttention)], channels: out) : nil
                outputs.append(UNetOutputBlock(res: res, attention: attention, upsample: upsample))
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
    /// - Parameter control: ControlNet / T2I-Adapter residuals, added where ComfyUI's `apply_control`
    ///   adds them; `controlMismatch` hears of any whose shape does not fit (skipped).
    /// - Parameter patch: run after every transformer block's self-attention (GLIGEN's grounding).
    /// - Parameter middleSelfAttention: replaces the middle block's self-attention (PAG).
    public func callAsFunction(
        _ x: Tensor, timesteps: [Float], context: Tensor, guidance: Float? = nil, control: ControlResiduals? = nil,
        controlMismatch: ((String) -> Void)? = nil, patch: (any TransformerMiddlePatch)? = nil,
        middleSelfAttention: AttentionReplacement? = nil
    ) throws -> Tensor {
        var control = ControlCursor(control, mismatch: controlMismatch)
        var features = timestepEmbedding(timesteps, dim: config.modelChannels)
        if let guidanceProjection, let dim = config.guidanceEmbeddingDim {
            let w = guidanceScaleEmbedding(Array(repeating: guidance ?? 7.5, count: timesteps.count), dim: dim)
            features = try features.adding(guidanceProjection(w))
        }
        let embedding = try timeEmbed.1(timeEmbed.0(features).silu()).silu()  // SiLU'd once for every ResBlock
        var h = try control.applyInput(convIn(x))
        var skips = [h]
        for block in inputBlocks {
            h = try control.applyInput(block(h, embedding: embedding, context: context, patch: patch))
            skips.append(h)
        }
        // ComfyUI's UNetModel.forward adds the middle control residual with or without a middle block.
        if let middle {
            h = try middle(h, embedding: embedding, context: context, patch: patch, selfAttention: middleSelfAttention)
        }
        h = try control.applyMiddle(h)
        for block in outputBlocks {
            let skip = try control.applyOutput(skips.removeLast())
            let next = skips.last.map { (height: $0.dim(2), width: $0.dim(3)) }
            h = try block(h, skip: skip, embedding: embedding, context: context, upsampledSize: next, patch: patch)
        }
        return try convOut(outNorm(h, silu: true))
    }
}
