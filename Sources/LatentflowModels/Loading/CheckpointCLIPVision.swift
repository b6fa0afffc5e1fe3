import LatentflowIO
import LatentflowTensor

/// The CLIP image tower inside a single-file checkpoint (SD2.1-unCLIP: OpenCLIP's layout under
/// `embedder.model.visual.`), converted to the transformers layout `CLIPVisionModel` reads.
///
/// Matches: ComfyUI `comfy/sd.py` `load_state_dict_guess_config` with `output_clipvision=True`
/// (`clip_vision.load_clipvision_from_sd(sd, model_config.clip_vision_prefix, True)`). ComfyUI keeps
/// a CLIP vision model in `text_encoder_dtype` (float16, also on the CPU) and computes in float32,
/// so the weights are rounded to float16 once here, as the text encoder's are — all but the two outer
/// LayerNorms and the projection, which ComfyUI's `comfy/clip_model.py` `CLIPVision` and
/// `CLIPVisionModelProjection` create without that dtype (float32).
public enum CheckpointCLIPVision {
    /// The modules ComfyUI keeps in float32 whatever its CLIP vision dtype.
    static let float32Modules = ["vision_model.pre_layrnorm.", "vision_model.post_layernorm.", "visual_projection."]

    /// Whether `archive` holds an unCLIP image tower in OpenCLIP's layout.
    public static func hasTower(_ archive: any TensorArchive, prefix: String = OpenCLIPVisionKeyMap.unCLIPPrefix)
        -> Bool
    {
        archive.contains(prefix + OpenCLIPVisionKeyMap.marker)
    }

    /// The tower under `prefix`; every key there must be one of the layout's, and the tower's own
    /// keys must all be present (reported by file and key).
    public static func load(
        _ archive: any TensorArchive, prefix: String = OpenCLIPVisionKeyMap.unCLIPPrefix,
        roundToFloat16: Bool = true
    ) throws -> (model: CLIPVisionModel, bytes: Int) {
        let path = archive.path
        var tensors: [String: Tensor] = [:], unexpected: [String] = []
        func stored(_ tensor: Tensor, as name: String) throws -> Tensor {
            guard roundToFloat16, !float32Modules.contains(where: { name.hasPrefix($0) }) else { return tensor }
            return try Tensor(shape: tensor.shape, float16Bits: tensor.float16Bits)
        }
        for key in archive.keys where key.hasPrefix(prefix) {
            let name = String(key.dropFirst(prefix.count))
            switch OpenCLIPVisionKeyMap.target(name) {
            case .renamed(let hfName)?:
                tensors[hfName] = try stored(archive.tensor(key), as: hfName)
            case .transposed(let hfName)?:
                let tensor = try archive.tensor(key)
                guard tensor.rank == 2 else {
                    throw ModelLoadError.unexpectedShape(
                        file: path, key: key, found: tensor.shape, expected: "[width, projection]")
                }
                tensors[hfName] = try stored(tensor.permuted([1, 0]), as: hfName)
            case .split(let names)?:
                let tensor = try archive.tensor(key)
                let rows = tensor.rank >= 1 ? tensor.dim(0) / names.count : 0
                guard (1...2).contains(tensor.rank), rows > 0, rows * names.count == tensor.dim(0) else {
                    throw ModelLoadError.unexpectedShape(
                        file: path, key: key, found: tensor.shape,
                        expected: "1 or 2 dimensions, \(names.count) equal non-empty row blocks (q, k, v)")
                }
                for (index, hfName) in names.enumerated() {
                    tensors[hfName] = try stored(tensor.slice(axis: 0, start: index * rows, length: rows), as: hfName)
                }
            case nil:
                unexpected.append(key)
            }
        }
        guard unexpected.isEmpty else {
            throw ModelLoadError.keys(file: path, missing: [], unexpected: unexpected.sorted(), mismatched: [])
        }
        let store = WeightStore(tensors, source: path + " (" + prefix + "*)")
        let config = try CLIPVisionConfiguration.detect(store.root)
        let model = CLIPVisionModel(store.root, config: config)
        try store.verify()
        return (model, tensors.values.reduce(0) { $0 + $1.count * 4 })
    }
}
