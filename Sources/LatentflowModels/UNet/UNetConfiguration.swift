import LatentflowTensor

/// The shape of an SD-family UNet, with SD1.5's values as defaults; detected from weights.
public struct UNetConfiguration: Sendable, Equatable {
    public var inChannels = 4
    public var outChannels = 4
    public var modelChannels = 320
    public var channelMultipliers = [1, 2, 4, 4]
    public var resBlocksPerLevel = 2
    /// ResBlocks per level where levels differ (SDXS-style pruned UNets, ComfyUI's `num_res_blocks`
    /// list); nil: `resBlocksPerLevel` on every level.
    public var resBlocksByLevel: [Int]?
    /// What `middle_block` holds (ComfyUI's `transformer_depth_middle`).
    public var middleBlock = MiddleBlock.full
    /// Levels whose blocks carry a spatial transformer.
    public var attentionLevels = [true, true, true, false]
    /// Levels whose transformers' first attention (`attn1`) attends to the text instead of the image
    /// tokens (ComfyUI's `disable_self_attentions`, diffusers' `only_cross_attention`: SDXS-512-0.9's
    /// first level). Empty: every level has self-attention. The middle block always does.
    public var selfAttentionDisabledLevels: [Bool] = []
    public var transformerDepth = 1
    public var contextDim = 768
    /// SD1.x fixes the number of heads (8); SD2.x fixes the head width (64).
    public var heads: Int? = 8
    public var headWidth: Int? = nil
    /// SD2.x projects in and out of transformers with linear layers, SD1.x with 1x1 convolutions.
    public var linearProjection = false
    /// LCM-distilled UNets (diffusers `time_cond_proj_dim`, as LCM_Dreamshaper_v7) add a projected
    /// guidance-scale embedding of this width to the timestep features.
    public var guidanceEmbeddingDim: Int?
    /// Class-conditional UNets (SD2.1-unCLIP's `label_emb`, ComfyUI's `num_classes="sequential"`)
    /// take a `y` vector of this width, whose MLP is added to the timestep embedding.
    public var admInChannels: Int?

    public static let sd15 = UNetConfiguration()

    /// The UNet's `middle_block`: ResBlock, transformer, ResBlock (SD1.x/2.x; `transformer_depth_middle`
    /// ≥ 0), a lone ResBlock (-1), or none at all (-2, SDXS-512).
    public enum MiddleBlock: Sendable, Equatable {
        case full, resBlockOnly, none
    }

    /// The ResBlocks on `level`.
    public func resBlocks(level: Int) -> Int {
        guard let resBlocksByLevel, resBlocksByLevel.indices.contains(level) else { return resBlocksPerLevel }
        return resBlocksByLevel[level]
    }

    /// Whether `level`'s transformers attend to the text in their first attention too.
    public func selfAttentionDisabled(level: Int) -> Bool {
        selfAttentionDisabledLevels.indices.contains(level) && selfAttentionDisabledLevels[level]
    }

    public init() {}

    public var timeEmbedDim: Int { modelChannels * 4 }

    func headCount(channels: Int) -> (heads: Int, width: Int) {
        if let headWidth { return (channels / headWidth, headWidth) }
        let heads = self.heads ?? 8
        return (heads, channels / heads)
    }

    /// Reads the configuration off LDM-layout weights (`input_blocks.0.0.weight` and the blocks
    /// after it), the way ComfyUI's `detect_unet_config` does for the SD family.
    public static func detect(_ scope: WeightScope) throws -> UNetConfiguration {
        let store = scope.store
        let shape = scope.shape(of:)
        guard let convIn = try scope.checkedShape("input_blocks.0.0.weight", rank: 4) else {
            throw ModelLoadError.unrecognized(
                file: store.source, reason: "no UNet found (missing \(scope.prefix).input_blocks.0.0.weight)")
        }
        var config = UNetConfiguration()
        config.modelChannels = convIn[0]
        config.inChannels = convIn[1]
        config.outChannels = try scope.checkedShape("out.2.weight", rank: 4)?[0] ?? 4
        config.guidanceEmbeddingDim = try scope.checkedShape("time_embed.cond_proj.weight", rank: 2)?[1]
        config.admInChannels = try scope.checkedShape("label_emb.0.0.weight", rank: 2)?[1]
        // Walk input blocks: a ResBlock at .0 (in_layers), a transformer at .1, a downsampler at .0.op.
        var multipliers: [Int] = [], attention: [Bool] = []
        var resCounts: [Int] = []
        var index = 1, currentRes = 0, currentAttention = false
        while shape("input_blocks.\(index).0.in_layers.0.weight") != nil
            || shape("input_blocks.\(index).0.op.weight") != nil
        {
            let outName = "input_blocks.\(index).0.out_layers.3.weight"
            if let out = try scope.checkedShape(outName, rank: 4) {
                try scope.require(
                    out[0] % config.modelChannels == 0, outName,
                    expected: "a multiple of \(config.modelChannels) output channels")
                if currentRes == 0 { multipliers.append(out[0] / config.modelChannels) }
                currentRes += 1
                if shape("input_blocks.\(index).1.norm.weight") != nil { currentAttention = true }
            } else {
                resCounts.append(currentRes)
                attention.append(currentAttention)
                currentRes = 0
                currentAttention = false
            }
            index += 1
        }
        resCounts.append(currentRes)
        attention.append(currentAttention)
        guard !multipliers.isEmpty else {
            throw ModelLoadError.unrecognized(
                file: store.source, reason: "no UNet found (no ResBlock under \(scope.prefix).input_blocks.1)")
        }
        config.channelMultipliers = multipliers
        config.attentionLevels = attention
        config.resBlocksPerLevel = resCounts.first ?? 2
        guard resCounts.allSatisfy({ $0 > 0 }) else {
            throw ModelLoadError.unrecognized(
                file: store.source, reason: "a UNet level without ResBlocks (block counts \(resCounts))")
        }
        // ComfyUI's detect_unet_config: `num_res_blocks` per level (SDXS-style pruned UNets).
        if !resCounts.allSatisfy({ $0 == config.resBlocksPerLevel }) { config.resBlocksByLevel = resCounts }
        // `transformer_depth_middle`: a transformer at middle_block.1, a ResBlock alone, or nothing.
        if scope.has("middle_block.1.proj_in.weight") {
            config.middleBlock = .full
        } else if scope.has("middle_block.0.in_layers.0.weight") {
            config.middleBlock = .resBlockOnly
        } else {
            config.middleBlock = .none
        }
        try checkOutputAttention(scope, config: config)
        if let level = attention.firstIndex(of: true) {
            let prefix = UNetKeyLayout(config).inputBlock(level: level, index: 0) + ".1"
            if let k = try scope.checkedShape("\(prefix).transformer_blocks.0.attn2.to_k.weight", rank: 2) {
                config.contextDim = k[1]
            }
            config.linearProjection = try scope.checkedShape("\(prefix).proj_in.weight", rank: 2, 4)?.count == 2
            var depth = 0
            while shape("\(prefix).transformer_blocks.\(depth).norm1.weight") != nil { depth += 1 }
            config.transformerDepth = depth
            // ComfyUI: every linear-projection model of the family (SD2.x, unCLIP, SDXL) has 64-wide heads.
            if config.linearProjection {
                config.heads = nil
                config.headWidth = 64
            }
        }
        return config
    }

    /// Latentflow reads attention per level off the input blocks; a UNet whose output blocks put
    /// transformers elsewhere (a `transformer_depth_output` that differs per block) is refused.
    /// ControlNets, which have no output blocks, pass.
    static func checkOutputAttention(_ scope: WeightScope, config: UNetConfiguration) throws {
        guard scope.has("output_blocks.0.0.in_layers.0.weight") else { return }
        let layout = UNetKeyLayout(config)
        for level in config.channelMultipliers.indices {
            for index in 0...config.resBlocks(level: level) {
                let block = layout.outputBlock(level: level, index: index)
                let hasTransformer = scope.has("\(block).1.norm.weight")
                guard hasTransformer == config.attentionLevels[level] else {
                    throw ModelLoadError.unrecognized(
                        file: scope.store.source,
                        reason:
                            "\(scope.prefix).\(block) \(hasTransformer ? "has" : "lacks") a transformer where level \(level)'s input blocks \(config.attentionLevels[level] ? "have" : "have none")"
                    )
                }
            }
        }
    }
}
