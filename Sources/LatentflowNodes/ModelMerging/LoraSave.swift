import LatentflowGraph
import LatentflowIO
import LatentflowModels
import LatentflowTensor

/// `LoraSave`: extracts a LoRA from weight differences (a `ModelMergeSubtract` / `CLIPMergeSubtract`
/// result) by truncated SVD, as `<prefix>_<counter:05>_.safetensors` in float16 with no metadata.
///
/// Matches: ComfyUI `comfy_extras/nodes_lora_extract.py` `LoraSave`: keys `diffusion_model.<module>`
/// and `text_encoders.clip_l.transformer.<module>` + `.lora_up.weight` / `.lora_down.weight`
/// (`.diff` / `.diff_b` for 1-D weights and biases with `bias_diff`, every weight with `full_diff`).
public struct LoraSave: Node {
    static let filenamePrefix = Input.string("filename_prefix", default: "loras/ComfyUI_extracted_lora")
    static let rank = Input.int("rank", default: 8, min: 1, max: 4096, step: 1)
    static let loraType = Input.combo("lora_type", options: LoRAExtraction.Kind.allCases.map(\.rawValue))
    static let biasDiff = Input.boolean("bias_diff", default: true)
    static let modelDiff = Input<DiffusionModel>("model_diff").optional
    static let textEncoderDiff = Input<TextEncoder>("text_encoder_diff").optional

    public static let schema = NodeSchema(
        "LoraSave", category: "_for_testing",
        description: "Saves the low-rank approximation of a model's (or text encoder's) weight differences as a LoRA.",
        inputs: [filenamePrefix, rank, loraType, biasDiff, modelDiff, textEncoderDiff], isOutputNode: true)

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let model = try inputs.optional(Self.modelDiff), clip = try inputs.optional(Self.textEncoderDiff)
        guard model != nil || clip != nil else { return NodeOutputs(values: []) }
        let typeName = try inputs[Self.loraType]
        guard let kind = LoRAExtraction.Kind(rawValue: typeName) else {
            throw NodeError("lora_type '\(typeName)' is not one of standard, full_diff")
        }
        let (rank, biasDiff) = (try inputs[Self.rank], try inputs[Self.biasDiff])
        func skipped(_ key: String, _ error: Error) {
            context.warn("Could not generate lora weights for key \(key), is the weight difference a zero? (\(error))")
        }
        var tensors: [String: Tensor] = [:]
        if let model {
            guard !model.weights.isEmpty else { throw NodeError("model_diff carries no weights to extract from") }
            let diffs = model.weights.mapValues { $0.tensor() }
            tensors.merge(
                LoRAExtraction.extract(
                    diffs, rank: rank, kind: kind, biasDiff: biasDiff, prefix: "diffusion_model.", skipped: skipped)
            ) { $1 }
        }
        if let clip {
            guard !clip.weights.isEmpty else {
                throw NodeError("text_encoder_diff carries no weights to extract from")
            }
            tensors.merge(
                LoRAExtraction.extract(
                    Self.comfyTextKeys(clip), rank: rank, kind: kind, biasDiff: biasDiff, prefix: "text_encoders.",
                    skipped: skipped)
            ) { $1 }
        }
        let items = tensors.keys.sorted().compactMap { key in
            tensors[key].map { SafeTensorsWriter.Item(key, $0, dtype: .float16) }
        }
        let url = try ModelFileSaver.save(
            items, prefix: try inputs[Self.filenamePrefix], includePrompt: false, context: context)
        return NodeOutputs(values: [], files: [url])
    }

    /// The text encoder's weights under ComfyUI's CLIP state-dict keys (`clip_l.transformer.text_model.…`,
    /// `clip_l.transformer.text_projection.weight`; `clip_h` for SD2's OpenCLIP).
    static func comfyTextKeys(_ clip: TextEncoder) -> [String: Tensor] {
        let root = ModelFileSaver.isOpenCLIP(clip) ? "clip_h.transformer." : "clip_l.transformer."
        var out: [String: Tensor] = [:]
        for (key, parameter) in clip.weights where !key.hasSuffix("position_ids") {
            let name = key.hasPrefix("text_projection") || key == "logit_scale" ? key : "text_model." + key
            out[root + name] = parameter.tensor()
        }
        return out
    }
}
