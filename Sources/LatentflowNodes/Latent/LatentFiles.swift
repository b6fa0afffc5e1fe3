import Foundation
import LatentflowGraph
import LatentflowIO
import LatentflowModels
import LatentflowTensor

/// Saves latents as ComfyUI's `.latent` files (safetensors: `latent_tensor` plus the
/// `latent_format_version_0` marker) under `output/latents/`, so float results compare exactly.
public struct SaveLatent: Node {
    static let samples = Input<Latent>("samples")
    static let prefix = Input.string("filename_prefix", default: "latents/ComfyUI")

    public static let schema = NodeSchema(
        "SaveLatent", category: "_for_testing", inputs: [samples, prefix], isOutputNode: true)

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let prefix = try inputs[Self.prefix]
        let (subfolder, name) = try ImageSaver.split(prefix, raw: prefix, type: "output")
        let folder =
            subfolder.isEmpty
            ? context.environment.outputDirectory
            : context.environment.outputDirectory.appendingPathComponent(subfolder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let counter = ImageSaver.nextCounter(in: folder, prefix: name)
        let file = "\(name)_\(String(format: "%05d", counter))_.latent"
        var metadata = ["prompt": context.prompt.serialized()]
        for (key, value) in context.extraPNGInfo?.objectPairs ?? [] { metadata[key] = value.serialized() }
        let url = folder.appendingPathComponent(file)
        try SafeTensorsWriter.write(
            [
                .init("latent_tensor", try inputs[Self.samples].samples),
                .init("latent_format_version_0", Tensor(shape: [0])),
            ],
            metadata: metadata, to: url)
        let entry = JSONValue.object([
            ("filename", .string(file)), ("subfolder", .string(subfolder)), ("type", .string("output")),
        ])
        return NodeOutputs(values: [], ui: .object([("latents", .array([entry]))]), files: [url])
    }
}

/// Loads a `.latent` file from the input folder; files without the version marker are old
/// ComfyUI files holding scaled latents (divided by SD's 0.18215 on load, whatever the model).
public struct LoadLatent: Node {
    static let latent = Input.files("latent", folder: "input")

    public static let schema = NodeSchema(
        "LoadLatent", category: "_for_testing", inputs: [latent], outputs: outputs(Output<Latent>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let url = try context.environment.files.locate(try inputs[Self.latent], in: "input")
        let file = try SafeTensorsFile(path: url.path)
        let samples = try file.tensor("latent_tensor")
        let multiplier: Float = file.keys.contains("latent_format_version_0") ? 1 : 1 / LatentFormat.sd15.scaleFactor
        return NodeOutputs(Latent(samples.scaled(by: multiplier)))
    }

    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        fileFingerprint(constants[latent], folder: "input", environment: environment)
    }
}
