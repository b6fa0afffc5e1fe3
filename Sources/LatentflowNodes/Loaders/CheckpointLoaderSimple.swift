import Foundation
import LatentflowGraph
import LatentflowModels
import LatentflowTensor

/// Loads a single-file SD1.x-family checkpoint from `models/checkpoints`.
public struct CheckpointLoaderSimple: Node {
    static let checkpoint = Input.files(
        "ckpt_name", folder: "checkpoints", tooltip: "The name of the checkpoint (model) to load.")

    public static let schema = NodeSchema(
        "CheckpointLoaderSimple", displayName: "Load Checkpoint", category: "loaders",
        description: "Loads a diffusion model checkpoint; diffusion models are used to denoise latents.",
        inputs: [checkpoint],
        outputs: outputs(
            Output<DiffusionModel>("MODEL", tooltip: "The model used for denoising latents."),
            Output<TextEncoder>("CLIP", tooltip: "The CLIP model used for encoding text prompts."),
            Output<VAEModel>(
                "VAE", tooltip: "The VAE model used for encoding and decoding images to and from latent space.")))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let url = try context.environment.files.locate(try inputs[Self.checkpoint], in: "checkpoints")
        let models = try StableDiffusionCheckpoint.load(
            path: url.path, residency: context.environment.builtinSettings.weightResidency,
            unetResidency: context.environment.builtinSettings.unetResidency)
        if let warning = models.nonFiniteWarning { context.warn("\(url.lastPathComponent): " + warning) }
        guard let text = models.textModel else {
            throw NodeError(
                "\(url.lastPathComponent) has no text encoder (cond_stage_model.*): CLIPTextEncode could not use it")
        }
        return .checkpoint(models, text: text, precision: context.environment.builtinSettings.unetPrecision)
    }

    /// A changed file (size or time) is loaded again; an unchanged one comes from the cache.
    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        fileFingerprint(constants[checkpoint], folder: "checkpoints", environment: environment)
    }
}
