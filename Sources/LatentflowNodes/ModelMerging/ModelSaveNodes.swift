import LatentflowGraph
import LatentflowIO
import LatentflowModels

// ComfyUI's save nodes (`comfy_extras/nodes_model_merging.py`, `comfy.sd.save_checkpoint`): the
// keys, dtypes, names and metadata ComfyUI writes, so its loaders read the files back.

/// `CheckpointSave`: MODEL, CLIP and VAE as one SD1.x checkpoint (`model.diffusion_model.`,
/// `cond_stage_model.transformer.text_model.`, `first_stage_model.`).
public struct CheckpointSave: Node {
    static let model = Input<DiffusionModel>("model")
    static let clip = Input<TextEncoder>("clip")
    static let vae = Input<VAEModel>("vae")
    static let filenamePrefix = Input.string("filename_prefix", default: "checkpoints/ComfyUI")

    public static let schema = NodeSchema(
        "CheckpointSave", displayName: "Save Checkpoint", category: "advanced/model_merging",
        inputs: [model, clip, vae, filenamePrefix], isOutputNode: true)
    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let model = try inputs[Self.model], clip = try inputs[Self.clip], vae = try inputs[Self.vae]
        guard !ModelFileSaver.isOpenCLIP(clip) else {
            throw NodeError(
                "CheckpointSave of an SD2.x (OpenCLIP) text encoder is not supported yet; CLIPSave writes it")
        }
        guard !vae.weights.isEmpty else { throw NodeError("this VAE carries no weights to save") }
        // SD1.x's `process_clip_state_dict_for_saving` drops text_projection and logit_scale.
        let items =
            try ModelFileSaver.unetItems(model)
            + ModelFileSaver.textItems(clip, prefix: "cond_stage_model.transformer.", keepProjection: false)
            + ModelFileSaver.items(vae.weights, prefix: "first_stage_model.")
        let url = try ModelFileSaver.save(
            items, metadata: ModelFileSaver.predictionMetadata(model), prefix: try inputs[Self.filenamePrefix],
            context: context)
        return NodeOutputs(values: [], files: [url])
    }
}

/// `ModelSave`: the diffusion model alone, under `model.diffusion_model.` as `save_checkpoint` writes it.
public struct ModelSave: Node {
    static let model = Input<DiffusionModel>("model")
    static let filenamePrefix = Input.string("filename_prefix", default: "diffusion_models/ComfyUI")

    public static let schema = NodeSchema(
        "ModelSave", category: "advanced/model_merging", inputs: [model, filenamePrefix], isOutputNode: true)
    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let model = try inputs[Self.model]
        let url = try ModelFileSaver.save(
            try ModelFileSaver.unetItems(model), metadata: ModelFileSaver.predictionMetadata(model),
            prefix: try inputs[Self.filenamePrefix], context: context)
        return NodeOutputs(values: [], files: [url])
    }
}

/// `CLIPSave`: the text encoder as `<prefix>_clip_l` (SD1.x) or `<prefix>_clip_h` (SD2.x), keys
/// `text_model.*` (ComfyUI strips `clip_l.`/`clip_h.` and `transformer.`), metadata `format: pt`.
public struct CLIPSave: Node {
    static let clip = Input<TextEncoder>("clip")
    static let filenamePrefix = Input.string("filename_prefix", default: "clip/ComfyUI")

    public static let schema = NodeSchema(
        "CLIPSave", category: "advanced/model_merging", inputs: [clip, filenamePrefix], isOutputNode: true)
    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let clip = try inputs[Self.clip]
        let suffix = ModelFileSaver.isOpenCLIP(clip) ? "_clip_h" : "_clip_l"
        let url = try ModelFileSaver.save(
            try ModelFileSaver.textItems(clip, prefix: "", keepProjection: true), metadata: ["format": "pt"],
            prefix: try inputs[Self.filenamePrefix] + suffix, context: context)
        return NodeOutputs(values: [], files: [url])
    }
}

/// `VAESave`: the VAE's own keys (`vae.get_sd()`, no prefix), float32.
public struct VAESave: Node {
    static let vae = Input<VAEModel>("vae")
    static let filenamePrefix = Input.string("filename_prefix", default: "vae/ComfyUI_vae")

    public static let schema = NodeSchema(
        "VAESave", category: "advanced/model_merging", inputs: [vae, filenamePrefix], isOutputNode: true)
    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let vae = try inputs[Self.vae]
        guard !vae.weights.isEmpty else { throw NodeError("this VAE carries no weights to save") }
        let url = try ModelFileSaver.save(
            ModelFileSaver.items(vae.weights, prefix: ""), prefix: try inputs[Self.filenamePrefix], context: context)
        return NodeOutputs(values: [], files: [url])
    }
}
