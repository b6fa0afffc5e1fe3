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
        let (image, mask) = ImageQuantization.imageAndMask(try Self.decode(try inputs[Self.image], context: context))
        return NodeOutputs(image, mask)
    }

    /// The named file of the input (or another) folder, decoded within the memory budget.
    static func decode(_ name: String, folder: String = "input", context: ExecutionContext) throws -> RasterImage {
        let url = try context.environment.files.locate(name, in: folder)
        let settings = context.environment.builtinSettings
        let raster: RasterImage
        do {
            // The pixel budget is checked from the header, before decoding.
            raster = try ImageCodec.read(
                path: url.path, maxPixels: max(1, settings.memoryBudgetBytes / Self.leastBytesPerPixel))
        } catch let ImageFileError.tooLarge(_, format, width, height, channels, _) {
            let bytes = MemoryBudget.product([width, height, Self.bytesPerPixel(channels: channels)])
            try settings.checkAllocation(
                bytes: bytes ?? Int.max, what: context.classType,
                for: "\(name), a \(format) image of \(width)x\(height), decoded")
            throw NodeError("\(name): the \(format) image of \(width)x\(height) is too large to decode")
        }
        if let warning = raster.decodeWarning { context.warn("\(context.classType): \(name): \(warning)") }
        return raster
    }

    /// What decoding costs per pixel: the decoder's samples and their copy (up to 8 bytes each
    /// at 16 bits RGBA), the 0...1 floats, the IMAGE tensor and the mask.
    static func bytesPerPixel(channels: Int) -> Int { 2 * channels * 2 + channels * 4 + 12 + (channels == 4 ? 4 : 0) }
    /// The least of it (8-bit RGB), which the header check uses so that nothing it refuses fits.
    static let leastBytesPerPixel = 3 + 3 + 12 + 12

    /// ComfyUI re-runs LoadImage when the file's content changes (it hashes the file); path, size
    /// and modification time stand in for the hash here.
    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        fileFingerprint(constants[image], folder: "input", environment: environment)
    }
}

/// Loads an image from the output folder as IMAGE, with its alpha channel as MASK: LoadImage over
/// the output folder, its names plain or annotated (`x.png [output]`).
///
/// Matches: ComfyUI `nodes.py` `LoadImageOutput` (LoadImage's `load_image`; the combo lists the
/// output folder's images here instead of through the frontend's `/internal/files/output` route).
public struct LoadImageOutput: Node {
    static let image = Input.files("image", folder: "output", imageUpload: true, imageFolder: "output")

    public static let schema = NodeSchema(
        "LoadImageOutput", displayName: "Load Image (from Outputs)", category: "image",
        description:
            "Load an image from the output folder. When the refresh button is clicked, the node will update the image list and automatically select the first image, allowing for easy iteration.",
        inputs: [image], outputs: outputs(Output<ImageBatch>(), Output<Mask>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let raster = try LoadImage.decode(try inputs[Self.image], folder: "output", context: context)
        let (image, mask) = ImageQuantization.imageAndMask(raster)
        return NodeOutputs(image, mask)
    }

    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        fileFingerprint(constants[image], folder: "output", environment: environment)
    }
}
