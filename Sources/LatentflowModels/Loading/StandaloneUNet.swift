import LatentflowIO
import LatentflowTensor

/// Standalone diffusion-model files (`models/diffusion_models`, formerly `models/unet`):
/// the LDM UNet bare or under `model.diffusion_model.` (ComfyUI's `load_diffusion_model_state_dict`
/// strips the prefix its `unet_prefix_from_state_dict` finds, keeping only keys under it), or a
/// diffusers-layout UNet (`conv_in`, `down_blocks.*`, as `unet/diffusion_pytorch_model.safetensors`),
/// which must match one of ComfyUI's known diffusers UNets (`DiffusersUNetEntry`) and is renamed to
/// LDM keys through `DiffusersUNetKeyMap`, as ComfyUI renames it through `unet_to_diffusers`.
public enum StandaloneUNet {
    public static func load(path: String, residency: WeightResidency = .float32) throws
        -> StableDiffusionModels.UNetPart
    {
        let file = try openModelFile(path: path)
        let prefix = StableDiffusionCheckpoint.unetPrefix
        let prefixed = file.keys.contains { $0.hasPrefix(prefix) }
        // ComfyUI tries the LDM layout first; a file without `input_blocks.0.0.weight` under the
        // prefix it found is read as diffusers keys.
        var entry: DiffusersUNetEntry?
        var checkpointKey: (String) -> String? = { key in
            prefixed ? (key.hasPrefix(prefix) ? key : nil) : prefix + key
        }
        if !prefixed, !file.contains("input_blocks.0.0.weight"), file.contains("conv_in.weight") {
            let (matched, ldmNames) = try diffusersLayout(file, path: path)
            entry = matched
            // Keys outside the table are left over, as ComfyUI leaves them (a missing one fails below).
            checkpointKey = { ldmNames[$0].map { prefix + $0 } }
        }
        let parts = try StableDiffusionCheckpoint.readParts(
            of: file, path: path, roundCLIPToFloat16: false, residency: residency, checkpointKey: checkpointKey)
        guard !parts.unet.isEmpty, parts.unet["input_blocks.0.0.weight"] != nil || prefixed else {
            throw ModelLoadError.unrecognized(
                file: path,
                reason:
                    "not an SD1.x-family UNet: no 'input_blocks.0.0.weight' (found e.g. \(file.keys.sorted().prefix(3).joined(separator: ", ")))"
            )
        }
        let unet = try StableDiffusionCheckpoint.buildUNet(parts.unet, source: path) { config in
            // What the weights cannot say: SD09_XS's first level attends to the text in attn1 too.
            if let entry { config.selfAttentionDisabledLevels = entry.selfAttentionDisabledLevels }
        }
        var part = StableDiffusionModels.UNetPart(
            unet: unet, weights: parts.unet, bytes: parts.unet.residentBytes,
            prediction: .guess(unet.config, weights: parts.unet))
        part.nonFiniteTensors = parts.nonFinite.sorted()
        return part
    }
}

extension StandaloneUNet {
    /// The entry a diffusers-layout file matches and each of its keys' LDM name.
    static func diffusersLayout(_ file: any TensorArchive, path: String) throws
        -> (DiffusersUNetEntry, ldmNames: [String: String])
    {
        var shapes: [String: [Int]] = [:]
        for key in file.keys { shapes[key] = try file.shape(key) }
        let fingerprint = try DiffusersUNetFingerprint(shapes: shapes, source: path)
        guard let entry = DiffusersUNetEntry.first(matching: fingerprint) else {
            throw ModelLoadError.unrecognized(
                file: path,
                reason:
                    "a diffusers-layout UNet that matches none of ComfyUI's SD1.x/SD2.x diffusers UNets (\(DiffusersUNetEntry.all.map(\.name).joined(separator: ", "))): it has \(fingerprint.summary)"
            )
        }
        let map = DiffusersUNetKeyMap.modules(fingerprint.keyLayout)
        var names: [String: String] = [:]
        for key in file.keys { names[key] = DiffusersUNetKeyMap.ldmName(key, in: map) }
        return (entry, names)
    }
}

extension StableDiffusionModels {
    /// A UNet loaded on its own, with the weights it was built from.
    public struct UNetPart: Sendable {
        public let unet: UNet
        public let weights: [String: Parameter]
        public let bytes: Int
        public let prediction: PredictionType
        public var nonFiniteTensors: [String] = []
    }

    /// A text encoder loaded on its own, with the weights it was built from.
    public struct TextPart: Sendable {
        public let model: CLIPTextModel
        public let weights: [String: Parameter]
        public let bytes: Int
        public let weightsAreFloat16: Bool
        public var nonFiniteTensors: [String] = []
    }
}
