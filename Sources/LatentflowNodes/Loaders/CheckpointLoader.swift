import Foundation
import LatentflowGraph
import LatentflowIO
import LatentflowModels
import LatentflowSampling

/// The deprecated CheckpointLoader: a checkpoint with an original LDM inference config from
/// `models/configs`. As ComfyUI's `comfy.sd.load_checkpoint`, the model is detected from the weights
/// as CheckpointLoaderSimple does; the config adds only v-prediction (`parameterization: "v"`)
/// and the CLIP layer (`cond_stage_config.params.layer_idx`).
public struct CheckpointLoader: Node {
    static let configName = Input.files("config_name", folder: "configs")
    static let checkpoint = Input.files("ckpt_name", folder: "checkpoints")

    public static let schema = NodeSchema(
        "CheckpointLoader", displayName: "Load Checkpoint With Config (DEPRECATED)", category: "advanced/loaders",
        inputs: [configName, checkpoint],
        outputs: outputs(Output<DiffusionModel>(), Output<TextEncoder>(), Output<VAEModel>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let configURL = try context.environment.files.locate(try inputs[Self.configName], in: "configs")
        let config: LDMConfigFile
        do { config = try LDMConfigFile.read(configURL) } catch { throw NodeError("config_name: \(error)") }
        let url = try context.environment.files.locate(try inputs[Self.checkpoint], in: "checkpoints")
        let models = try StableDiffusionCheckpoint.load(
            path: url.path, residency: context.environment.builtinSettings.weightResidency,
            unetResidency: context.environment.builtinSettings.unetResidency)
        if let warning = models.nonFiniteWarning { context.warn("\(url.lastPathComponent): " + warning) }
        guard let text = models.textModel else {
            throw NodeError("\(url.lastPathComponent) has no text encoder (cond_stage_model.*)")
        }
        var model = DiffusionModel(models, computePrecision: context.environment.builtinSettings.unetPrecision)
        if config.parameterization == "v" { model.sampling = ModelSampling(parameterization: .vPrediction) }
        var clip = TextEncoder(
            model: text, byteCount: models.textBytes, weights: models.textWeights,
            weightsAreFloat16: models.textWeightsAreFloat16)
        if let layer = config.layerIndex { clip.lastLayer = layer }
        return NodeOutputs(
            model, clip, VAEModel(autoencoder: models.vae, byteCount: models.vaeBytes, weights: models.vaeWeights))
    }

    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        let checkpointPrint = fileFingerprint(constants[checkpoint], folder: "checkpoints", environment: environment)
        let configPrint = fileFingerprint(constants[configName], folder: "configs", environment: environment)
        guard case .value(let checkpointFile) = checkpointPrint, case .value(let configFile) = configPrint else {
            return .unchanged
        }
        return .value(checkpointFile + "\n" + configFile)
    }
}
