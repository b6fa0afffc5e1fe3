import LatentflowIO
import LatentflowTensor

/// Standalone diffusion-model files (`models/diffusion_models`, formerly `models/unet`):
/// the LDM UNet bare or under `model.diffusion_model.` (ComfyUI's `load_diffusion_model_state_dict`
/// strips the prefix its `unet_prefix_from_state_dict` finds, keeping only keys under it).
public enum StandaloneUNet {
    public static func load(path: String, residency: WeightResidency = .float32) throws
        -> StableDiffusionModels.UNetPart
    {
        let file = try openModelFile(path: path)
        let prefix = StableDiffusionCheckpoint.unetPrefix
        let prefixed = file.keys.contains { $0.hasPrefix(prefix) }
        if !prefixed,
            file.keys.contains("conv_in.weight") || file.keys.contains(where: { $0.hasPrefix("down_blocks.") })
        {
            throw ModelLoadError.unrecognized(
                file: path,
                reason: "a diffusers-layout UNet (conv_in, down_blocks.*): load its folder with DiffusersLoader")
        }
        let parts = try StableDiffusionCheckpoint.readParts(
            of: file, path: path, roundCLIPToFloat16: false, residency: residency
        ) { key in prefixed ? (key.hasPrefix(prefix) ? key : nil) : prefix + key }
        guard !parts.unet.isEmpty, parts.unet["input_blocks.0.0.weight"] != nil || prefixed else {
            throw ModelLoadError.unrecognized(
                file: path,
                reason:
                    "not an SD1.x-family UNet: no 'input_blocks.0.0.weight' (found e.g. \(file.keys.sorted().prefix(3).joined(separator: ", ")))"
            )
        }
        let unet = try StableDiffusionCheckpoint.buildUNet(parts.unet, source: path)
        var part = StableDiffusionModels.UNetPart(
            unet: unet, weights: parts.unet, bytes: parts.unet.residentBytes,
            prediction: .guess(unet.config, weights: parts.unet))
        part.nonFiniteTensors = parts.nonFinite.sorted()
        return part
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
