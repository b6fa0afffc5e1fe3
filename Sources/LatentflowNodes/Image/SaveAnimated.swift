import Foundation
import LatentflowGraph
import LatentflowIO

/// Saves a batch of images as one animated PNG in the output folder.
///
/// Matches: ComfyUI `comfy_extras/nodes_images.py` `SaveAnimatedPNG.save_images`: SaveImage's
/// naming (`<prefix>_<counter:05>_.png`), 8-bit frames truncated as SaveImage's, `int(1000 / fps)`
/// ms per frame, Pillow's `save_all` (AnimatedPNG), the prompt and extra info as `comf` chunks
/// (`key\0json`) after the image data, UI `animated: [true]`.
public struct SaveAnimatedPNG: Node {
    static let images = Input<ImageBatch>("images")
    static let filenamePrefix = Input.string("filename_prefix", default: "ComfyUI")
    static let fps = Input.float("fps", default: 6, min: 0.01, max: 1000, step: 0.01)
    static let compressLevel = Input.int("compress_level", default: 4, min: 0, max: 9)

    public static let schema = NodeSchema(
        "SaveAnimatedPNG", displayName: "SaveAnimatedPNG", category: "image/animation",
        inputs: [images, filenamePrefix, fps, compressLevel], isOutputNode: true)

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let batch = try inputs[Self.images], level = try inputs[Self.compressLevel]
        guard (0...9).contains(level) else {
            throw NodeError("SaveAnimatedPNG: input 'compress_level' must be 0...9, got \(level)")
        }
        let duration = try frameDuration(try inputs[Self.fps], node: "SaveAnimatedPNG")
        var target = try ImageSaver.Target(
            ImageSaver(directory: context.environment.outputDirectory, type: "output", compressionLevel: level),
            prefix: try inputs[Self.filenamePrefix], width: batch.width, height: batch.height)
        let chunks = ImageSaver.metadata(context).map { entry in
            (type: "comf", data: Data(entry.key.utf8) + Data([0]) + Data(entry.text.utf8))
        }
        let png = try AnimatedPNG.encode(
            rasters(batch), duration: duration, compressionLevel: level, chunks: chunks)
        try target.write(png, stem: target.name)
        return target.outputs(animated: true)
    }
}

/// A batch as 8-bit RGB rasters (SaveImage's truncation).
func rasters(_ batch: ImageBatch) -> [RasterImage] {
    (0..<batch.count).map { index in
        RasterImage(
            width: batch.width, height: batch.height, channels: 3,
            samples: .uint8(ImageQuantization.rgb8(batch, index: index)))
    }
}

/// ComfyUI's `int(1000.0 / fps)` milliseconds per frame.
func frameDuration(_ fps: Double, node: String) throws -> Int {
    let duration = (1000.0 / fps).rounded(.towardZero)
    guard fps > 0, duration.isFinite, duration <= 65535 else {
        throw NodeError("\(node): input 'fps' must be at least 0.016 (a frame of at most 65535 ms), got \(fps)")
    }
    return Int(duration)
}

/// Saves a batch of images as one animated WebP in the output folder.
///
/// Matches: ComfyUI `comfy_extras/nodes_images.py` `SaveAnimatedWEBP.save_images` (with its
/// default `num_frames` 0: one file for the batch): SaveImage's naming (`.webp`), `int(1000 / fps)`
/// ms per frame, method default 4 / fastest 0 / slowest 6, Pillow's `save_all` (AnimatedWebP),
/// the prompt as EXIF Model (0x0110, `prompt:<json>`) and each extra info key from Make (0x010F)
/// downwards (`key:<json>`); UI `animated: [batch > 1]`.
public struct SaveAnimatedWEBP: Node {
    static let methods = ["default": 4, "fastest": 0, "slowest": 6]
    static let images = Input<ImageBatch>("images")
    static let filenamePrefix = Input.string("filename_prefix", default: "ComfyUI")
    static let fps = Input.float("fps", default: 6, min: 0.01, max: 1000, step: 0.01)
    static let lossless = Input.boolean("lossless", default: true)
    static let quality = Input.int("quality", default: 80, min: 0, max: 100)
    static let method = Input.combo("method", options: ["default", "fastest", "slowest"])

    public static let schema = NodeSchema(
        "SaveAnimatedWEBP", displayName: "SaveAnimatedWEBP", category: "image/animation",
        inputs: [images, filenamePrefix, fps, lossless, quality, method], isOutputNode: true)

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let batch = try inputs[Self.images], quality = try inputs[Self.quality]
        let methodName = try inputs[Self.method]
        guard let method = Self.methods[methodName] else {
            throw NodeError("SaveAnimatedWEBP: input 'method' is '\(methodName)'; expected default, fastest or slowest")
        }
        guard (0...100).contains(quality) else {
            throw NodeError("SaveAnimatedWEBP: input 'quality' must be 0...100, got \(quality)")
        }
        let duration = try frameDuration(try inputs[Self.fps], node: "SaveAnimatedWEBP")
        var target = try ImageSaver.Target(
            ImageSaver(directory: context.environment.outputDirectory, type: "output", compressionLevel: 0),
            prefix: try inputs[Self.filenamePrefix], width: batch.width, height: batch.height)
        var entries: [(tag: UInt16, text: String)] = [(0x0110, "prompt:" + context.prompt.serialized())]
        for (offset, pair) in (context.extraPNGInfo?.objectPairs ?? []).enumerated() where offset < 0x010F {
            entries.append((UInt16(0x010F - offset), pair.key + ":" + pair.value.serialized()))
        }
        let webp = try AnimatedWebP.encode(
            rasters(batch), duration: duration, lossless: try inputs[Self.lossless], quality: quality, method: method,
            exif: AnimatedWebP.exif(entries))
        try target.write(webp, stem: target.name, extension: "webp")
        return target.outputs(animated: batch.count != 1)
    }
}
