import Foundation
import LatentflowGraph
import LatentflowModels
import LatentflowSampling

/// Loads a standalone diffusion model (UNet) from `models/diffusion_models` (ComfyUI's
/// `UNETLoader`, `comfy.sd.load_diffusion_model`), in the LDM or the diffusers key layout. Its
/// latent format is SD1.x's; the VAE comes from a VAELoader.
public struct UNETLoader: Node {
    static let unetName = Input.files("unet_name", folder: "diffusion_models")
    static let weightDType = Input.combo(
        "weight_dtype", options: ["default", "fp8_e4m3fn", "fp8_e4m3fn_fast", "fp8_e5m2"])

    public static let schema = NodeSchema(
        "UNETLoader", displayName: "Load Diffusion Model", category: "advanced/loaders",
        inputs: [unetName, weightDType], outputs: outputs(Output<DiffusionModel>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let dtype = try inputs[Self.weightDType]
        guard dtype == "default" else {
            // fp8 storage exists for GPU memory; on CPU it would only round the weights.
            throw NodeError(
                "weight_dtype '\(dtype)' is not supported here (only 'default'): the weights load as stored")
        }
        let url = try context.environment.files.locate(try inputs[Self.unetName], in: "diffusion_models")
        let part = try StandaloneUNet.load(path: url.path, residency: context.environment.builtinSettings.unetResidency)
        if !part.nonFiniteTensors.isEmpty {
            context.warn(
                "\(url.lastPathComponent): \(part.nonFiniteTensors.count) tensor(s) hold NaN or infinite values: "
                    + part.nonFiniteTensors.prefix(8).joined(separator: ", "))
        }
        let parameterization: Parameterization = part.prediction == .vPrediction ? .vPrediction : .eps
        var model = DiffusionModel(
            unet: part.unet, sampling: ModelSampling(parameterization: parameterization), byteCount: part.bytes,
            weights: part.weights)
        model.computePrecision = context.environment.builtinSettings.unetPrecision
        return NodeOutputs(model)
    }

    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        fileFingerprint(constants[unetName], folder: "diffusion_models", environment: environment)
    }
}

/// Loads a standalone text encoder from `models/text_encoders` (ComfyUI's `CLIPLoader`,
/// `comfy.sd.load_clip`): SD1.x's CLIP ViT-L or SD2.x's OpenCLIP ViT-H, told apart by the weights.
public struct CLIPLoader: Node {
    static let clipName = Input.files("clip_name", folder: "text_encoders")
    /// ComfyUI v0.3.64's list; the SD1.x/SD2.x encoders are its `stable_diffusion` type.
    static let type = Input.combo(
        "type",
        options: [
            "stable_diffusion", "stable_cascade", "sd3", "stable_audio", "mochi", "ltxv", "pixart", "cosmos",
            "lumina2", "wan", "hidream", "chroma", "ace", "omnigen2", "qwen_image", "hunyuan_image",
        ])
    static let device = Input.combo("device", options: ["default", "cpu"]).optional

    public static let schema = NodeSchema(
        "CLIPLoader", displayName: "Load CLIP", category: "advanced/loaders",
        inputs: [clipName, type, device], outputs: outputs(Output<TextEncoder>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let type = try inputs[Self.type]
        guard type == "stable_diffusion" else {
            throw NodeError(
                "type '\(type)' is not supported: Latentflow runs the SD1.x/SD2.x text encoders ('stable_diffusion')")
        }
        let url = try context.environment.files.locate(try inputs[Self.clipName], in: "text_encoders")
        let part = try StandaloneTextEncoder.load(
            path: url.path, residency: context.environment.builtinSettings.weightResidency)
        return NodeOutputs(
            TextEncoder(
                model: part.model, byteCount: part.bytes, weights: part.weights,
                weightsAreFloat16: part.weightsAreFloat16))
    }

    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        fileFingerprint(constants[clipName], folder: "text_encoders", environment: environment)
    }
}
