import LatentflowIO
import LatentflowTensor

/// Standalone text-encoder files (`models/text_encoders`, formerly `models/clip`) for SD1.x and
/// SD2.x: transformers' `CLIPTextModel` layout (`text_model.*`, as ComfyUI's CLIPSave writes it)
/// or OpenCLIP's (`transformer.resblocks.*`, `token_embedding`, …), bare or under a checkpoint's
/// `cond_stage_model.` prefix.
///
/// SD1.x or SD2.x is decided as ComfyUI's `detect_te_model` decides it: a 23rd layer
/// (`encoder.layers.22`) means OpenCLIP ViT-H (SD2: GELU, zero padding, penultimate layer);
/// OpenCLIP's own layout means it too.
public enum StandaloneTextEncoder {
    static let hfPrefixes = ["text_model.", "transformer.text_model.", "transformer."]

    public static func load(path: String, roundToFloat16: Bool = true, residency: WeightResidency = .float32) throws
        -> StableDiffusionModels.TextPart
    {
        let file = try openModelFile(path: path)
        let clipPrefix = StableDiffusionCheckpoint.clipPrefixes[0]
        let openCLIPPrefix = OpenCLIPTextKeyMap.prefixes[0]
        let openCLIPBare = file.keys.contains { $0.hasPrefix("transformer.resblocks.") }
        let parts = try StableDiffusionCheckpoint.readParts(
            of: file, path: path, roundCLIPToFloat16: roundToFloat16, residency: residency
        ) { key in
            if key.hasPrefix("cond_stage_model.") { return key }
            if openCLIPBare { return openCLIPPrefix + key }
            if let prefix = hfPrefixes.first(where: { key.hasPrefix($0) }) {
                return clipPrefix + key.dropFirst(prefix.count)
            }
            return clipPrefix + key  // bare HF keys (embeddings.*, encoder.*, final_layer_norm.*)
        }
        guard !parts.clip.isEmpty else {
            throw ModelLoadError.unrecognized(
                file: path,
                reason:
                    "not a CLIP text encoder (found e.g. \(file.keys.sorted().prefix(3).joined(separator: ", ")))")
        }
        let hasLayer = { (index: Int) in parts.clip["encoder.layers.\(index).mlp.fc1.weight"] != nil }
        let openCLIP = parts.openCLIP || hasLayer(22)
        // OpenCLIP's tower has 24 layers and SD2 reads the 23rd; a file with the last already
        // dropped (23 layers, diffusers' conversion) is read to its end.
        let model = try StableDiffusionCheckpoint.buildTextModel(
            parts.clip, openCLIP: openCLIP, penultimateByDefault: !hasLayer(22) || hasLayer(23), source: path)
        var part = StableDiffusionModels.TextPart(
            model: model, weights: parts.clip, bytes: parts.clip.residentBytes, weightsAreFloat16: roundToFloat16)
        part.nonFiniteTensors = parts.nonFinite.sorted()
        return part
    }
}
