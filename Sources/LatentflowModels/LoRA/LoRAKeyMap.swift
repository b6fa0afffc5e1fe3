/// Every name a LoRA file may use for a model weight, mapped to that weight's key: ComfyUI's
/// `model_lora_keys_unet` / `model_lora_keys_clip` (kohya LDM and diffusers names, lycoris,
/// diffusers/PEFT `unet.` and `text_encoder.` prefixes).
public enum LoRAKeyMap {
    /// LoRA base name → UNet weight key (LDM layout, ending in `.weight`).
    public static func unet(_ weightKeys: [String], config: UNetConfiguration) -> [String: String] {
        var map: [String: String] = [:]
        for key in weightKeys where key.hasSuffix(".weight") {
            let module = String(key.dropLast(".weight".count))
            map["lora_unet_" + module.replacingOccurrences(of: ".", with: "_")] = key
            map["diffusion_model." + module] = key
        }
        let modules = DiffusersUNetKeyMap.modules(config)
        let ldmToDiffusers = Dictionary(modules.map { ($0.value, $0.key) }, uniquingKeysWith: { first, _ in first })
        for key in weightKeys where key.hasSuffix(".weight") {
            let module = String(key.dropLast(".weight".count))
            guard let diffusers = diffusersName(module, ldmToDiffusers) else { continue }
            let underscored = diffusers.replacingOccurrences(of: ".", with: "_")
            map["lora_unet_" + underscored] = key
            map["lycoris_" + underscored] = key
            map["unet." + diffusers] = key
            map[diffusers] = key
            var processor = "unet." + diffusers.replacingOccurrences(of: ".to_", with: ".processor.to_")
            if processor.hasSuffix(".processor.to_out.0") { processor = String(processor.dropLast(2)) }
            map[processor] = key
        }
        return map
    }

    /// The diffusers path of an LDM module path, through the longest mapped LDM prefix.
    static func diffusersName(_ ldm: String, _ reverse: [String: String]) -> String? {
        var candidate = ldm, suffix = ""
        while true {
            if let diffusers = reverse[candidate] { return diffusers + suffix }
            guard let dot = candidate.lastIndex(of: ".") else { return nil }
            suffix = String(candidate[dot...]) + suffix
            candidate = String(candidate[..<dot])
        }
    }

    /// LoRA base name → text-encoder weight key (HF layout without `text_model.`).
    public static func clip(layers: Int) -> [String: String] {
        var map: [String: String] = [:]
        let modules = [
            "mlp.fc1", "mlp.fc2", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj",
        ]
        for layer in 0..<layers {
            for module in modules {
                let key = "encoder.layers.\(layer).\(module).weight"
                let underscored = module.replacingOccurrences(of: ".", with: "_")
                map["lora_te_text_model_encoder_layers_\(layer)_\(underscored)"] = key
                map["lora_te1_text_model_encoder_layers_\(layer)_\(underscored)"] = key
                map["text_encoder.text_model.encoder.layers.\(layer).\(module)"] = key
                map["text_encoders.clip_l.transformer.text_model.encoder.layers.\(layer).\(module)"] = key
            }
        }
        return map
    }
}
