import LatentflowTensor

/// diffusers names for ControlNets (`ControlNetModel`) and T2I-Adapters (`T2IAdapter`), mapped to
/// the LDM layout the models read.
///
/// Matches: ComfyUI `comfy/controlnet.py` `load_controlnet` (its diffusers branch over
/// `unet_to_diffusers`) and `load_t2i_adapter` (its `prefix_replace` table).
enum DiffusersControlNetKeyMap {
    /// The encoder's shape as the diffusers names reveal it: levels, ResBlocks a level, and which
    /// levels have attention (all `modules` needs).
    static func encoderConfiguration(_ keys: Set<String>) -> UNetConfiguration {
        var config = UNetConfiguration()
        var levels = 0
        while keys.contains("down_blocks.\(levels).resnets.0.conv1.weight") { levels += 1 }
        var blocks = 0
        while keys.contains("down_blocks.0.resnets.\(blocks).conv1.weight") { blocks += 1 }
        config.channelMultipliers = Array(repeating: 1, count: max(levels, 1))
        config.resBlocksPerLevel = max(blocks, 1)
        config.attentionLevels = (0..<max(levels, 1)).map {
            keys.contains("down_blocks.\($0).attentions.0.norm.weight")
        }
        return config
    }

    /// A diffusers ControlNet's tensors under LDM names; anything unmapped keeps its name (and is
    /// reported as unexpected when the model is built).
    static func ldmTensors(_ tensors: [String: Tensor], file: String) throws -> [String: Tensor] {
        var map = DiffusersUNetKeyMap.modules(encoderConfiguration(Set(tensors.keys)))
        map["controlnet_mid_block"] = "middle_block_out.0"
        map["controlnet_cond_embedding.conv_in"] = "input_hint_block.0"
        var blocks = 0
        while tensors["controlnet_cond_embedding.blocks.\(blocks).weight"] != nil {
            map["controlnet_cond_embedding.blocks.\(blocks)"] = "input_hint_block.\(2 * (blocks + 1))"
            blocks += 1
        }
        map["controlnet_cond_embedding.conv_out"] = "input_hint_block.\(2 * (blocks + 1))"
        var count = 0
        while tensors["controlnet_down_blocks.\(count).weight"] != nil {
            map["controlnet_down_blocks.\(count)"] = "zero_convs.\(count).0"
            count += 1
        }
        var out: [String: Tensor] = [:]
        for (key, tensor) in tensors {
            out[DiffusersUNetKeyMap.ldmName(key, in: map) ?? key] = tensor
        }
        return out
    }

    /// diffusers' `adapter.body.I.resnets.J.` is TencentARC's `body.(2I+J).`, and
    /// `adapter.body.I.` (the level's input convolution) `body.(2I).`.
    static func adapterTensors(_ tensors: [String: Tensor]) -> [String: Tensor] {
        var replacements: [(String, String)] = []
        for i in 0..<4 {
            for j in 0..<2 { replacements.append(("adapter.body.\(i).resnets.\(j).", "body.\(i * 2 + j).")) }
            replacements.append(("adapter.body.\(i).", "body.\(i * 2)."))
        }
        replacements.append(("adapter.", ""))
        var out: [String: Tensor] = [:]
        for (key, tensor) in tensors {
            if let (old, new) = replacements.first(where: { key.hasPrefix($0.0) }) {
                out[new + key.dropFirst(old.count)] = tensor
            } else {
                out[key] = tensor
            }
        }
        return out
    }
}
