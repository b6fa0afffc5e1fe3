/// OpenCLIP's image-tower keys (SD2.1-unCLIP single files keep their ViT-H/14 or ViT-L/14 under
/// `embedder.model.visual.`; standalone OpenCLIP files under `visual.`) → the transformers
/// `CLIPVisionModelWithProjection` names `CLIPVisionModel` reads, the renaming ComfyUI's
/// `convert_to_transformers` does. OpenCLIP fuses the query, key and value projections into one
/// `attn.in_proj_*` tensor stacked along its rows, and stores the projection as `x @ proj`
/// (`[width, projection]`), the transpose of a Linear weight.
///
/// Matches: ComfyUI `comfy/clip_vision.py` `convert_to_transformers` and `comfy/utils.py`
/// `transformers_convert` (prefix → `vision_model.`).
public enum OpenCLIPVisionKeyMap {
    enum Target: Equatable {
        /// The tensor, under this name.
        case renamed(String)
        /// Rows split into equal parts, in this order.
        case split([String])
        /// The 2-D tensor transposed, under this name.
        case transposed(String)
    }

    /// The prefix of the unCLIP image tower in an SD2.1-unCLIP checkpoint (ComfyUI's
    /// `SD21UnclipL/H.clip_vision_prefix`).
    public static let unCLIPPrefix = "embedder.model.visual."
    /// The key whose presence marks the OpenCLIP layout (after the prefix).
    public static let marker = "transformer.resblocks.0.attn.in_proj_weight"

    static let topLevel: [String: Target] = [
        "class_embedding": .renamed("vision_model.embeddings.class_embedding"),
        "conv1.weight": .renamed("vision_model.embeddings.patch_embedding.weight"),
        "positional_embedding": .renamed("vision_model.embeddings.position_embedding.weight"),
        "ln_pre.weight": .renamed("vision_model.pre_layrnorm.weight"),
        "ln_pre.bias": .renamed("vision_model.pre_layrnorm.bias"),
        "ln_post.weight": .renamed("vision_model.post_layernorm.weight"),
        "ln_post.bias": .renamed("vision_model.post_layernorm.bias"),
        "proj": .transposed("visual_projection.weight"),
    ]

    /// Within `transformer.resblocks.N.` (the same modules as the text tower's).
    static let blockModules = OpenCLIPTextKeyMap.blockModules

    /// Where an OpenCLIP image-tower key (prefix removed) goes; nil for a key this layout does not have.
    static func target(_ key: String) -> Target? {
        if let target = topLevel[key] { return target }
        let blockPrefix = "transformer.resblocks."
        guard key.hasPrefix(blockPrefix) else { return nil }
        let rest = key.dropFirst(blockPrefix.count)
        guard let dot = rest.firstIndex(of: "."), let layer = Int(rest[..<dot]) else { return nil }
        let inner = String(rest[rest.index(after: dot)...])
        let layerPrefix = "vision_model.encoder.layers.\(layer)."
        if inner.hasPrefix(OpenCLIPTextKeyMap.fusedProjection) {
            let suffix = inner.dropFirst(OpenCLIPTextKeyMap.fusedProjection.count)  // weight | bias
            guard suffix == "weight" || suffix == "bias" else { return nil }
            return .split(OpenCLIPTextKeyMap.splitProjections.map { "\(layerPrefix)\($0).\(suffix)" })
        }
        guard let lastDot = inner.lastIndex(of: "."), let module = blockModules[String(inner[..<lastDot])] else {
            return nil
        }
        return .renamed("\(layerPrefix)\(module)\(inner[lastDot...])")
    }
}
