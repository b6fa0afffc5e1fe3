import Foundation
import LatentflowGraph
import LatentflowIO

/// Loads an image from the input folder as IMAGE, with its alpha channel as MASK.
public struct LoadImage: Node {
    static let image = Input.files("image", folder: "input", imageUpload: true)

    public static let schema = NodeSchema(
        "LoadImage", displayName: "Load Image", category: "image",
        description: "Loads an image from the input folder; the mask is 1 − alpha.",
        inputs: [image], outputs: outputs(Output<ImageBatch>(), Output<Mask>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let url = try context.environment.files.locate(try inputs[Self.image], in: "input")
        let (image, mask) = ImageQuantization.imageAndMask(try ImageCodec.read(path: url.path))
        return NodeOutputs(image, mask)
    }

    /// ComfyUI re-runs LoadImage when the file's content changes (it hashes the file); path, size
    /// and modification time stand in for the hash here.
    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        fileFingerprint(constants[image], folder: "input", environment: environment)
    }
}
