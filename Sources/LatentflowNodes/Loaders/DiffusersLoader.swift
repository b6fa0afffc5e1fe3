import Foundation
import LatentflowGraph
import LatentflowModels

/// Loads a diffusers pipeline folder from `models/diffusers` (ComfyUI's DiffusersLoader).
public struct DiffusersLoader: Node {
    static let modelPath = Input.files("model_path", folder: "diffusers")

    public static let schema = NodeSchema(
        "DiffusersLoader", category: "advanced/loaders/deprecated",
        description:
            "Loads a diffusers folder (unet/, vae/, text_encoder/ with their config.json; safetensors weights).",
        inputs: [modelPath], outputs: outputs(Output<DiffusionModel>(), Output<TextEncoder>(), Output<VAEModel>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let url = try context.environment.files.locate(try inputs[Self.modelPath], in: "diffusers")
        let models = try DiffusersFolder.load(url)
        if let warning = models.nonFiniteWarning { context.warn("\(url.lastPathComponent): " + warning) }
        guard let text = models.textModel else { throw NodeError("\(url.lastPathComponent) has no text_encoder/") }
        return .checkpoint(models, text: text, precision: context.environment.builtinSettings.unetPrecision)
    }
}
