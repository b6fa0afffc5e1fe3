import Foundation
import LatentflowGraph
import LatentflowIO
import LatentflowModels

/// Loads an SD2.1-unCLIP single file: MODEL, CLIP and VAE as CheckpointLoaderSimple does, and the
/// image tower it carries (`embedder.model.visual.*`, OpenCLIP's layout) as CLIP_VISION.
///
/// Matches: ComfyUI `nodes.py` `unCLIPCheckpointLoader` (`comfy/sd.py` `load_checkpoint_guess_config`
/// with `output_clipvision=True`). ComfyUI hands on None as CLIP_VISION for a checkpoint without
/// a tower; this node says so instead, naming the file and the prefix it looked for.
public struct UnCLIPCheckpointLoader: Node {
    static let checkpoint = Input.files("ckpt_name", folder: "checkpoints")

    public static let schema = NodeSchema(
        "unCLIPCheckpointLoader", displayName: "unCLIP Checkpoint Loader", category: "loaders",
        inputs: [checkpoint],
        outputs: outputs(
            Output<DiffusionModel>("MODEL"), Output<TextEncoder>("CLIP"), Output<VAEModel>("VAE"),
            Output<CLIPVision>("CLIP_VISION")))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let url = try context.environment.files.locate(try inputs[Self.checkpoint], in: "checkpoints")
        let name = url.lastPathComponent
        let archive = try openModelFile(path: url.path)
        guard CheckpointCLIPVision.hasTower(archive) else {
            throw NodeError(
                "\(name) is not an unCLIP checkpoint: it has no image tower "
                    + "(\(OpenCLIPVisionKeyMap.unCLIPPrefix)\(OpenCLIPVisionKeyMap.marker)); load it with "
                    + "CheckpointLoaderSimple")
        }
        let models = try StableDiffusionCheckpoint.load(
            path: url.path, residency: context.environment.builtinSettings.weightResidency,
            unetResidency: context.environment.builtinSettings.unetResidency)
        if let warning = models.nonFiniteWarning { context.warn("\(name): " + warning) }
        guard let text = models.textModel else {
            throw NodeError("\(name) has no text encoder (cond_stage_model.*): CLIPTextEncode could not use it")
        }
        guard models.unet.config.admInChannels != nil else {
            throw NodeError(
                "\(name) has an image tower but its UNet has no class embedding (label_emb.*), so it cannot "
                    + "read unCLIP conditioning")
        }
        let (vision, bytes) = try CheckpointCLIPVision.load(archive)
        var outputs = NodeOutputs.checkpoint(
            models, text: text, precision: context.environment.builtinSettings.unetPrecision)
        outputs.values.append(CLIPVision(model: vision, byteCount: bytes))
        return outputs
    }

    /// A changed file (size or time) is loaded again; an unchanged one comes from the cache.
    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        fileFingerprint(constants[checkpoint], folder: "checkpoints", environment: environment)
    }
}
