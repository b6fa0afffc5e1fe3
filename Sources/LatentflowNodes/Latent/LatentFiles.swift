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
        let output = context.environment.outputDirectory
        let folder = try ImageSaver.confinedFolder(subfolder, in: output, raw: prefix, type: "output")
        var metadata = ["prompt": context.prompt.serialized()]
        for (key, value) in context.extraPNGInfo?.objectPairs ?? [] { metadata[key] = value.serialized() }
        let tensors: [SafeTensorsWriter.Item] = [
            .init("latent_tensor", try inputs[Self.samples].samples),
            .init("latent_format_version_0", Tensor(shape: [0])),
        ]
        let data = try SafeTensorsWriter.data(tensors, metadata: metadata)
        // The name is claimed atomically: a concurrent save of the same prefix takes the next counter.
        let first = ImageSaver.nextCounter(in: folder, prefix: name)
        let (claimed, _) = try OutputFile.create(data, in: folder, startingAt: first) {
            "\(name)_\(String(format: "%05d", $0))_.latent"
        }
        let file = claimed.lastPathComponent
        let url = (subfolder.isEmpty ? output : output.appendingPathComponent(subfolder)).appendingPathComponent(file)
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
