import Foundation
import LatentflowGraph
import LatentflowIO

/// ComfyUI's `SaveImageWebsocket` (`custom_nodes/websocket_image_save.py`, shipped with its
/// server): each image goes to the submitting client as a binary PNG frame instead of a file, for
/// API clients that want the pixels without a `/view` round trip. No metadata is embedded, as there.
public struct SaveImageWebsocket: Node {
    static let images = Input<ImageBatch>("images")

    public static let schema = NodeSchema(
        "SaveImageWebsocket", category: "api/image", inputs: [images], isOutputNode: true)

    public init() {}

    /// ComfyUI's `IS_CHANGED` returns the time: the images are sent again on every run.
    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        .alwaysChanged
    }

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let batch = try inputs[Self.images]
        for index in 0..<batch.count {
            try context.checkCancellation()
            let raster = RasterImage(
                width: batch.width, height: batch.height, channels: 3,
                samples: .uint8(ImageQuantization.rgb8(batch, index: index)), textChunks: [])
            // ComfyUI reports the step before the image (`update_absolute(step, ...)`, from 0) and
            // saves with compress_level 1.
            context.progress(index, of: batch.count)
            context.sendImage(png: try ImageCodec.encodePNG(raster, compressionLevel: 1))
        }
        return NodeOutputs(values: [])
    }
}
