/// The diffusers `UNet2DConditionModel` module names for an LDM UNet, module by module
/// (the parameter suffixes `.weight`/`.bias` and everything inside a transformer stay the same).
///
/// Matches: ComfyUI `comfy/utils.py` `unet_to_diffusers` (UNET_MAP_RESNET, UNET_MAP_ATTENTIONS,
/// UNET_MAP_BASIC), restated at module granularity.
public enum DiffusersUNetKeyMap {
    static let resnetParts = [
        ("norm1", "in_layers.0"), ("conv1", "in_layers.2"), ("time_emb_proj", "emb_layers.1"),
        ("norm2", "out_layers.0"), ("conv2", "out_layers.3"), ("conv_shortcut", "skip_connection"),
    ]
    static let basic = [
        ("conv_in", "input_blocks.0.0"), ("time_embedding.linear_1", "time_embed.0"),
        ("time_embedding.linear_2", "time_embed.2"), ("conv_norm_out", "out.0"), ("conv_out", "out.2"),
        // unCLIP's class-embedding MLP (ComfyUI's UNET_MAP_BASIC maps SDXL's add_embedding here too).
        ("class_embedding.linear_1", "label_emb.0.0"), ("class_embedding.linear_2", "label_emb.0.2"),
        // LCM's guidance projection has no LDM name in ComfyUI; Latentflow calls it this.
        ("time_embedding.cond_proj", "time_embed.cond_proj"),
    ]

    /// diffusers module path → LDM module path, for every module with parameters.
    public static func modules(_ config: UNetConfiguration) -> [String: String] {
        var map: [String: String] = [:]
        for (diffusers, ldm) in basic { map[diffusers] = ldm }
        func resnet(_ diffusers: String, _ ldm: String) {
            for (d, l) in resnetParts { map["\(diffusers).\(d)"] = "\(ldm).\(l)" }
        }
        let levels = config.channelMultipliers.count
        let layout = UNetKeyLayout(config)
        for level in 0..<levels {
            for i in 0..<config.resBlocks(level: level) {
                let block = layout.inputBlock(level: level, index: i)
                resnet("down_blocks.\(level).resnets.\(i)", block + ".0")
                if config.attentionLevels[level] { map["down_blocks.\(level).attentions.\(i)"] = block + ".1" }
            }
            if level < levels - 1 {
                map["down_blocks.\(level).downsamplers.0.conv"] = layout.downsample(level: level) + ".op"
            }
        }
        if config.middleBlock != .none { resnet("mid_block.resnets.0", "middle_block.0") }
        if config.middleBlock == .full {
            map["mid_block.attentions.0"] = "middle_block.1"
            resnet("mid_block.resnets.1", "middle_block.2")
        }
        // diffusers' up block x is level levels − 1 − x (deepest level first, as output_blocks).
        for x in 0..<levels {
            let level = levels - 1 - x
            let hasAttention = config.attentionLevels[level]
            for i in 0...config.resBlocks(level: level) {
                let block = layout.outputBlock(level: level, index: i)
                resnet("up_blocks.\(x).resnets.\(i)", block + ".0")
                if hasAttention { map["up_blocks.\(x).attentions.\(i)"] = block + ".1" }
                if layout.hasUpsample(level: level, index: i) {
                    let upsample = layout.upsample(level: level, hasAttention: hasAttention)
                    map["up_blocks.\(x).upsamplers.0.conv"] = upsample + ".conv"
                }
            }
        }
        return map
    }

    /// The LDM name of a diffusers parameter or module path, by its longest mapped prefix.
    public static func ldmName(_ diffusersPath: String, in map: [String: String]) -> String? {
        var candidate = diffusersPath
        var suffix = ""
        while true {
            if let ldm = map[candidate] { return ldm + suffix }
            guard let dot = candidate.lastIndex(of: ".") else { return nil }
            suffix = String(candidate[dot...]) + suffix
            candidate = String(candidate[..<dot])
        }
    }
}
