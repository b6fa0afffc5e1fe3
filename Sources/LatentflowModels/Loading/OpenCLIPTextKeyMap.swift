import LatentflowTensor

/// OpenCLIP's text-tower keys (SD2.x single-file checkpoints keep OpenCLIP ViT-H/14 under
/// `cond_stage_model.model.`) → the Hugging Face `CLIPTextModel` names `CLIPTextModel` reads
/// (without `text_model.`), the renaming ComfyUI's `transformers_convert` does. OpenCLIP fuses
/// the query, key and value projections into one `attn.in_proj_*` tensor, stacked along its rows.
enum OpenCLIPTextKeyMap {
    enum Target: Equatable {
        /// The tensor, under this name.
        case renamed(String)
        /// Rows split into equal parts, in this order.
        case split([String])
        /// Saved by OpenCLIP but not part of the text tower's computation (ComfyUI drops them too).
        case unused
    }

    static let prefixes = ["cond_stage_model.model.", "conditioner.embedders.0.model."]

    static let topLevel: [String: String] = [
        "token_embedding.weight": "embeddings.token_embedding.weight",
        "positional_embedding": "embeddings.position_embedding.weight",
        "ln_final.weight": "final_layer_norm.weight",
        "ln_final.bias": "final_layer_norm.bias",
    ]

    /// Within `transformer.resblocks.N.`.
    static let blockModules: [String: String] = [
        "ln_1": "layer_norm1",
        "attn.out_proj": "self_attn.out_proj",
        "ln_2": "layer_norm2",
        "mlp.c_fc": "mlp.fc1",
        "mlp.c_proj": "mlp.fc2",
    ]
    static let fusedProjection = "attn.in_proj_"
    static let splitProjections = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"]

    static let unused: Set<String> = ["text_projection", "logit_scale", "attn_mask"]

    /// Where an OpenCLIP key (prefix removed) goes; nil for a key this layout does not have.
    static func target(_ key: String) -> Target? {
        if let name = topLevel[key] { return .renamed(name) }
        if unused.contains(key) { return .unused }
        let blockPrefix = "transformer.resblocks."
        guard key.hasPrefix(blockPrefix) else { return nil }
        let rest = key.dropFirst(blockPrefix.count)
        guard let dot = rest.firstIndex(of: "."), let layer = Int(rest[..<dot]) else { return nil }
        let inner = String(rest[rest.index(after: dot)...])
        if inner.hasPrefix(fusedProjection) {
            let suffix = inner.dropFirst(fusedProjection.count)  // weight | bias
            guard suffix == "weight" || suffix == "bias" else { return nil }
            return .split(splitProjections.map { "encoder.layers.\(layer).\($0).\(suffix)" })
        }
        guard let lastDot = inner.lastIndex(of: "."), let module = blockModules[String(inner[..<lastDot])] else {
            return nil
        }
        return .renamed("encoder.layers.\(layer).\(module)\(inner[lastDot...])")
    }
}

extension OpenCLIPTextKeyMap {
    /// The other way: Hugging Face-named text-tower tensors (without `text_model.`) in OpenCLIP's
    /// layout (without the checkpoint prefix), q/k/v stacked back into `attn.in_proj_*`; for the
    /// random SD2.x checkpoints the benchmark runs.
    static func openCLIPLayout(_ tensors: [String: Tensor]) throws -> [(String, Tensor)] {
        var result: [(String, Tensor)] = []
        for (openCLIP, hf) in topLevel { if let t = tensors[hf] { result.append((openCLIP, t)) } }
        var layer = 0
        while tensors["encoder.layers.\(layer).layer_norm1.weight"] != nil {
            let hfBlock = "encoder.layers.\(layer).", block = "transformer.resblocks.\(layer)."
            for (openCLIP, hf) in blockModules {
                for suffix in ["weight", "bias"] {
                    if let t = tensors[hfBlock + hf + "." + suffix] {
                        result.append((block + openCLIP + "." + suffix, t))
                    }
                }
            }
            for suffix in ["weight", "bias"] {
                let parts = splitProjections.compactMap { tensors[hfBlock + $0 + "." + suffix] }
                guard parts.count == splitProjections.count else { continue }
                result.append((block + fusedProjection + suffix, try Tensor.concat(parts, axis: 0)))
            }
            layer += 1
        }
        return result.sorted { $0.0 < $1.0 }
    }
}
