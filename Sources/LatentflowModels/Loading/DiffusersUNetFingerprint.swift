import LatentflowIO

/// What a diffusers-layout UNet (`conv_in`, `down_blocks.*`, …) tells of itself through its key
/// names and shapes alone: the fields ComfyUI matches against its list of known UNets, and the
/// block structure the diffusers → LDM key table needs.
///
/// Matches: ComfyUI `comfy/model_detection.py` `unet_config_from_diffusers_unet` (its `match`
/// dict: `transformer_depth`, `context_dim`, `model_channels`, `in_channels`, `adm_in_channels`,
/// counted with `count_blocks`).
struct DiffusersUNetFingerprint: Sendable, Equatable {
    var modelChannels: Int
    var inChannels: Int
    /// The width `attn2.to_k` takes; nil without transformers (ComfyUI then leaves it unmatched).
    var contextDim: Int?
    /// `class_embedding.linear_1` (unCLIP) or `add_embedding.linear_1` (SDXL) input width.
    var admInChannels: Int?
    /// Transformers after each down-path ResBlock, shallowest first (ComfyUI's `transformer_depth`).
    var transformerDepth: [Int]
    /// ResBlocks per down level, and which levels have transformers.
    var resBlocks: [Int]
    var attentionLevels: [Bool]
    var middleBlock: UNetConfiguration.MiddleBlock
    /// Whether the first transformer projects in with a linear layer; nil without transformers.
    var linearProjection: Bool?

    /// Reads `shapes` (key → shape); throws where `conv_in.weight` is missing or malformed.
    init(shapes: [String: [Int]], source: String) throws {
        let keys = Array(shapes.keys)
        // ComfyUI's count_blocks: how many consecutive indices have a key starting with the prefix.
        func count(_ prefix: (Int) -> String) -> Int {
            var n = 0
            while keys.contains(where: { $0.hasPrefix(prefix(n)) }) { n += 1 }
            return n
        }
        guard let convIn = shapes["conv_in.weight"], convIn.count == 4 else {
            throw ModelLoadError.unrecognized(
                file: source, reason: "not a diffusers-layout UNet: no 4-dimensional conv_in.weight")
        }
        (modelChannels, inChannels) = (convIn[0], convIn[1])
        admInChannels = (shapes["class_embedding.linear_1.weight"] ?? shapes["add_embedding.linear_1.weight"])?.last
        var depth: [Int] = [], resBlocks: [Int] = [], attention: [Bool] = []
        var contextDim: Int?, linear: Bool?
        for level in 0..<count({ "down_blocks.\($0)" }) {
            let attentions = count { "down_blocks.\(level).attentions.\($0)" }
            let resnets = count { "down_blocks.\(level).resnets.\($0)" }
            for index in 0..<attentions {
                let block = "down_blocks.\(level).attentions.\(index)"
                let transformers = count { "\(block).transformer_blocks.\($0)" }
                depth.append(transformers)
                if transformers > 0 {
                    contextDim = shapes["\(block).transformer_blocks.0.attn2.to_k.weight"]?.last ?? contextDim
                    if linear == nil, let projection = shapes["\(block).proj_in.weight"] {
                        linear = projection.count == 2
                    }
                }
            }
            if attentions == 0 { depth += Array(repeating: 0, count: resnets) }
            resBlocks.append(resnets)
            attention.append(attentions > 0)
        }
        (transformerDepth, self.resBlocks, attentionLevels) = (depth, resBlocks, attention)
        (self.contextDim, linearProjection) = (contextDim, linear)
        if keys.contains(where: { $0.hasPrefix("mid_block.attentions.0.") }) {
            middleBlock = .full
        } else if keys.contains(where: { $0.hasPrefix("mid_block.resnets.0.") }) {
            middleBlock = .resBlockOnly
        } else {
            middleBlock = .none
        }
    }

    /// The block structure alone, enough for `DiffusersUNetKeyMap.modules` (channel counts do
    /// not enter the key names; the UNet itself is configured from the renamed weights).
    var keyLayout: UNetConfiguration {
        var config = UNetConfiguration()
        config.channelMultipliers = Array(repeating: 1, count: resBlocks.count)
        config.resBlocksPerLevel = resBlocks.first ?? 2
        if Set(resBlocks).count > 1 { config.resBlocksByLevel = resBlocks }
        config.attentionLevels = attentionLevels
        config.middleBlock = middleBlock
        return config
    }

    /// How it reads in an error message, in ComfyUI's field names.
    var summary: String {
        "model_channels \(modelChannels), in_channels \(inChannels), context_dim \(contextDim.map(String.init) ?? "none"), "
            + "adm_in_channels \(admInChannels.map(String.init) ?? "none"), transformer_depth \(transformerDepth)"
    }
}
