import LatentflowIO
import LatentflowTensor

/// CLIP vision files (`models/clip_vision`) in transformers' layout (`vision_model.*`,
/// `visual_projection.weight`), as ComfyUI's `clip_vision.load` reads them: other keys (a text
/// tower in a whole-CLIP file) are ignored, as its `strict=False` load ignores them. OpenCLIP-layout
/// files (`visual.transformer.*`) are converted by `OpenCLIPVisionKeyMap` and kept in float16 as
/// ComfyUI keeps them (`CheckpointCLIPVision`); transformers-layout files stay in float32.
public enum StandaloneCLIPVision {
    public static func load(path: String) throws -> (model: CLIPVisionModel, bytes: Int) {
        let archive = try openModelFile(path: path)
        // ComfyUI's `clip_vision.load`: an OpenCLIP-layout file keeps its tower under `visual.`.
        if CheckpointCLIPVision.hasTower(archive, prefix: "visual.") {
            return try CheckpointCLIPVision.load(archive, prefix: "visual.")
        }
        var tensors: [String: Tensor] = [:]
        for key in archive.keys where key.hasPrefix("vision_model.") || key.hasPrefix("visual_projection.") {
            tensors[key] = try archive.tensor(key)
        }
        let store = WeightStore(tensors, source: path)
        let config = try CLIPVisionConfiguration.detect(store.root)
        let model = CLIPVisionModel(store.root, config: config)
        try store.verify(unusedUnder: ["vision_model.", "visual_projection."]) { $0.hasSuffix("position_ids") }
        return (model, tensors.values.reduce(0) { $0 + $1.count * 4 })
    }
}
