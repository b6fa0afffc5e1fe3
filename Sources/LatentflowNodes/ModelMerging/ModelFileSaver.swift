import Foundation
import LatentflowGraph
import LatentflowIO
import LatentflowModels
import LatentflowSampling
import LatentflowTensor

/// Writes model weights as ComfyUI's save nodes do: `<prefix>_<counter:05>_.safetensors` in the
/// output folder (`folder_paths.get_save_image_path`: subfolders confined to it, the counter after
/// the highest existing one, each name claimed atomically), with the prompt and the extra PNG info
/// (the workflow) as JSON strings in the safetensors metadata (`includePrompt` false: none, as
/// LoraSave's `metadata=None`).
enum ModelFileSaver {
    static func save(
        _ items: [SafeTensorsWriter.Item], metadata extra: [String: String] = [:], prefix: String,
        includePrompt: Bool = true, context: ExecutionContext
    ) throws -> URL {
        let directory = context.environment.outputDirectory
        let (subfolder, name) = try ImageSaver.split(prefix, raw: prefix, type: "output")
        let folder = try ImageSaver.confinedFolder(subfolder, in: directory, raw: prefix, type: "output")
        var metadata = extra
        if includePrompt {
            metadata["prompt"] = context.prompt.serialized()
            for (key, value) in context.extraPNGInfo?.objectPairs ?? [] { metadata[key] = value.serialized() }
        }
        let data = try SafeTensorsWriter.data(items, metadata: metadata)
        let (url, _) = try OutputFile.create(
            data, in: folder, startingAt: ImageSaver.nextCounter(in: folder, prefix: name)
        ) {
            "\(name)_\(String(format: "%05d", $0))_.safetensors"
        }
        return (subfolder.isEmpty ? directory : directory.appendingPathComponent(subfolder))
            .appendingPathComponent(url.lastPathComponent)
    }

    /// Weights under `prefix`, sorted by key, in `dtype`.
    static func items(
        _ weights: [String: Parameter], prefix: String, dtype: SafeTensorsDType = .float32,
        skip: (String) -> Bool = { _ in false }
    ) -> [SafeTensorsWriter.Item] {
        weights.keys.sorted().filter { !skip($0) }.compactMap { key in
            weights[key].map { SafeTensorsWriter.Item(prefix + key, $0.tensor(), dtype: dtype) }
        }
    }

    /// ComfyUI's `model_base.state_dict_for_saving` keys: the UNet under `model.diffusion_model.`
    /// in float32 (ComfyUI's CPU dtype), a v-prediction model marked with an empty `v_pred`.
    static func unetItems(_ model: DiffusionModel) throws -> [SafeTensorsWriter.Item] {
        guard !model.weights.isEmpty else { throw NodeError("this MODEL carries no weights to save") }
        var items = items(model.weights, prefix: "model.diffusion_model.")
        if model.sampling.parameterization == .vPrediction {
            items.append(SafeTensorsWriter.Item("v_pred", try Tensor(shape: [0], scalars: [])))
        }
        return items
    }

    /// `modelspec.predict_key`, as ComfyUI's `save_checkpoint` sets it.
    static func predictionMetadata(_ model: DiffusionModel) -> [String: String] {
        switch model.sampling.parameterization {
        case .vPrediction: ["modelspec.predict_key": "v"]
        case .eps: ["modelspec.predict_key": "epsilon"]
        default: [:]
        }
    }

    /// The text encoder in transformers' layout under `prefix` + `text_model.`, float16 when it is
    /// kept so; `position_ids` left out (ComfyUI's text model has none).
    static func textItems(_ clip: TextEncoder, prefix: String, keepProjection: Bool) throws -> [SafeTensorsWriter.Item]
    {
        guard !clip.weights.isEmpty else { throw NodeError("this CLIP carries no weights to save") }
        let dtype: SafeTensorsDType = clip.weightsAreFloat16 ? .float16 : .float32
        var result = items(clip.weights, prefix: prefix + "text_model.", dtype: dtype) {
            $0.hasSuffix("position_ids") || $0.hasPrefix("text_projection") || $0 == "logit_scale"
        }
        if keepProjection, let projection = clip.weights["text_projection.weight"] {
            result.append(SafeTensorsWriter.Item(prefix + "text_projection.weight", projection.tensor(), dtype: dtype))
        }
        return result
    }

    /// Whether the text encoder is SD2's OpenCLIP ViT-H (GELU, zero padding).
    static func isOpenCLIP(_ clip: TextEncoder) -> Bool { clip.model.config.activation == .gelu }
}
