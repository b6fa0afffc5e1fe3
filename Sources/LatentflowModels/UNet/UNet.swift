import LatentflowTensor

/// The SD-family denoising UNet (LDM `UNetModel`), built from a configuration and weights in
/// the LDM key layout (`input_blocks.*`, `middle_block.*`, `output_blocks.*`).
public struct UNet: Sendable {
    public let config: UNetConfiguration
    let timeEmbed: (Linear, Linear)
    /// The LCM guidance-scale projection (key `time_embed.cond_proj`, diffusers `time_embedding.cond_proj`).
    let guidanceProjection: Linear?
    /// The class-embedding MLP of unCLIP UNets (`label_emb.0.0`, SiLU, `label_emb.0.2`).
    let labelEmbedding: (Linear, Linear)?
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
        labelEmbedding = config.admInChannels.map {
            (Linear(scope["label_emb.0.0"], in: $0, out: embed), Linear(scope["label_emb.0.2"], in: embed, out: embed))
        }
        convIn = Conv2D(scope["input_blocks.0.0"], in: config.inChannels, out: mc, kernel: 3)

        let layout = UNetKeyLayout(config)
        var transformers = 0  // spatial transformers so far: each one's index
        func transformer(_ scope: WeightScope, channels: Int, level: Int?) -> SpatialTransformer {
            defer { transformers += 1 }
            return SpatialTransformer(scope, channels: channels, config: config, level: level, index: transformers)
        }
        let encoder = makeUNetInputBlocks(scope, config: config) { transformer($0, channels: $1, level: $2) }
        inputBlocks = encoder.blocks
        var (skipChannels, channels) = (encoder.skipChannels, encoder.channels)
        let levels = config.channelMultipliers.count
        switch config.middleBlock {
        case .full:
            middle = UNetMiddleBlock(
                first: ResBlock(scope["middle_block.0"], in: channels, out: channels, embedDim: embed),
                attention: transformer(scope["middle_block.1"], channels: channels, level: nil),
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
                let attention = hasAttention ? transformer(block["1"], channels: out, level: level) : nil
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
    /// - Parameter patches: the MODEL's block and attention patches (FreeU, Deep Shrink, hypernetworks,
    ///   HyperTile), run where ComfyUI's `UNetModel._forward` runs them; `sigma` is what they are told.
    /// - Parameter middleSelfAttention: replaces the middle block's self-attention (PAG).
    /// - Parameter y: for class-conditional (unCLIP) UNets, `[N, admInChannels]`; nil: zeros, as
    ///   ComfyUI's `SD21UNCLIP.encode_adm` gives without unCLIP conditioning. Ignored by other UNets.
    public func callAsFunction(
        _ x: Tensor, timesteps: [Float], context: Tensor, y: Tensor? = nil, guidance: Float? = nil,
        control: ControlResiduals? = nil,
        controlMismatch: ((String) -> Void)? = nil, patch: (any TransformerMiddlePatch)? = nil,
        patches: UNetPatches = UNetPatches(), sigma: Float? = nil, middleSelfAttention: AttentionReplacement? = nil
    ) throws -> Tensor {
        let call = UNetCallInfo(sigma: sigma, originalShape: x.shape)
        let attention = patches.hasAttentionPatches ? AttentionPatchCall(patches: patches, call: call) : nil
        var control = ControlCursor(control, mismatch: controlMismatch)
        var features = timestepEmbedding(timesteps, dim: config.modelChannels)
        if let guidanceProjection, let dim = config.guidanceEmbeddingDim {
            let w = guidanceScaleEmbedding(Array(repeating: guidance ?? 7.5, count: timesteps.count), dim: dim)
            features = try features.adding(guidanceProjection(w))
        }
        var timeEmbedding = try timeEmbed.1(timeEmbed.0(features).silu())
        if let labelEmbedding, let width = config.admInChannels {
            let n = x.dim(0)
            let y = y ?? Tensor(shape: [n, width])
            guard y.shape == [n, width] else {
                throw TensorError.invalidArgument(
                    "this UNet takes a class embedding y of [\(n), \(width)], got \(y.shape)")
            }
            timeEmbedding = try timeEmbedding.adding(labelEmbedding.1(labelEmbedding.0(y).silu()))
        }
        let embedding = timeEmbedding.silu()  // SiLU'd once for every ResBlock
        var h = x
        var skips: [Tensor] = []
        // Input block 0 is conv_in, as ComfyUI numbers `transformer_options["block"]`; the skip keeps
        // what `input_block_patch` gave, the next block what `input_block_patch_after_skip` gives.
        for id in 0...inputBlocks.count {
            if id == 0 {
                h = try convIn(h)
            } else {
                h = try inputBlocks[id - 1](
                    h, embedding: embedding, context: context, patch: patch, attention: attention)
            }
            h = try patches.applyBlock(patches.inputBlock, control.applyInput(h), block: id, call)
            skips.append(h)
            h = try patches.applyBlock(patches.inputBlockAfterSkip, h, block: id, call)
        }
        // ComfyUI's UNetModel.forward adds the middle control residual with or without a middle block.
        if let middle {
            h = try middle(
                h, embedding: embedding, context: context, patch: patch, attention: attention,
                selfAttention: middleSelfAttention)
        }
        h = try control.applyMiddle(h)
        for (id, block) in outputBlocks.enumerated() {
            var skip = try control.applyOutput(skips.removeLast())
            (h, skip) = try patches.applyOutputBlock(h, skip: skip, block: id, call)
            let next = skips.last.map { (height: $0.dim(2), width: $0.dim(3)) }
            h = try block(
                h, skip: skip, embedding: embedding, context: context, upsampledSize: next, patch: patch,
                attention: attention)
        }
        return try convOut(outNorm(h, silu: true))
    }
}
