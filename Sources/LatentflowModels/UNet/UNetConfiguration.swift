import LatentflowTensor

/// The shape of an SD-family UNet, with SD1.5's values as defaults; detected from weights.
public struct UNetConfiguration: Sendable, Equatable {
    public var inChannels = 4
    public var outChannels = 4
    public var modelChannels = 320
    public var channelMultipliers = [1, 2, 4, 4]
    public var resBlocksPerLevel = 2
    /// Levels whose blocks carry a spatial transformer.
    public var attentionLevels = [true, true, true, false]
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

    public static let sd15 = UNetConfiguration()

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
        guard let convIn = shape("input_blocks.0.0.weight"), convIn.count == 4 else {
            throw ModelLoadError.unrecognized(
                file: store.source, reason: "no UNet found (missing \(scope.prefix).input_blocks.0.0.weight)")
        }
        var config = UNetConfiguration()
        config.modelChannels = convIn[0]
        config.inChannels = convIn[1]
        config.outChannels = shape("out.2.weight")?[0] ?? 4
        config.guidanceEmbeddingDim = shape("time_embed.cond_proj.weight")?[1]
        // Walk input blocks: a ResBlock at .0 (in_layers), a transformer at .1, a downsampler at .0.op.
        var multipliers: [Int] = [], attention: [Bool] = []
        var resCounts: [Int] = []
        var index = 1, currentRes = 0, currentAttention = false
        while shape("input_blocks.\(index).0.in_layers.0.weight") != nil
            || shape("input_blocks.\(index).0.op.weight") != nil
        {
            if let out = shape("input_blocks.\(index).0.out_layers.3.weight") {
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
        config.channelMultipliers = multipliers
        config.attentionLevels = attention
        config.resBlocksPerLevel = resCounts.first ?? 2
        guard resCounts.allSatisfy({ $0 == config.resBlocksPerLevel }) else {
            throw ModelLoadError.unrecognized(
                file: store.source, reason: "UNet levels have different block counts \(resCounts)")
        }
        if let level = attention.firstIndex(of: true) {
            let prefix = UNetKeyLayout(config).inputBlock(level: level, index: 0) + ".1"
            if let k = shape("\(prefix).transformer_blocks.0.attn2.to_k.weight") { config.contextDim = k[1] }
            config.linearProjection = shape("\(prefix).proj_in.weight")?.count == 2
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
}
