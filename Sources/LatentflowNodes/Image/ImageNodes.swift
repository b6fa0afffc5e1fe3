import LatentflowGraph
import LatentflowTensor

/// A batch of single-colour images.
public struct EmptyImage: Node {
    static let width = Input.int("width", default: 512, min: 1, max: maxResolution, step: 1)
    static let height = Input.int("height", default: 512, min: 1, max: maxResolution, step: 1)
    static let batchSize = Input.int("batch_size", default: 1, min: 1, max: 4096)
    static let color = Input.int("color", default: 0, min: 0, max: 0xFFFFFF, step: 1)

    public static let schema = NodeSchema(
        "EmptyImage", category: "image", description: "A batch of images filled with one RGB colour (0xRRGGBB).",
        inputs: [width, height, batchSize, color], outputs: outputs(Output<ImageBatch>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let (w, h, n, rgb) = (
            try inputs[Self.width], try inputs[Self.height], try inputs[Self.batchSize], try inputs[Self.color]
        )
        let channels = [Float((rgb >> 16) & 0xFF), Float((rgb >> 8) & 0xFF), Float(rgb & 0xFF)].map { $0 / 255 }
        let pixels = Tensor(shape: [n, h, w, 3]) { out in
            for i in 0..<out.count { out[i] = channels[i % 3] }
        }
        return NodeOutputs(ImageBatch(pixels))
    }
}

/// 1 − image.
public struct ImageInvert: Node {
    static let image = Input<ImageBatch>("image")

    public static let schema = NodeSchema(
        "ImageInvert", displayName: "Invert Image", category: "image",
        inputs: [image], outputs: outputs(Output<ImageBatch>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(ImageBatch(try inputs[Self.image].pixels.scaled(by: -1, adding: 1)))
    }
}

/// ComfyUI's MAX_RESOLUTION.
let maxResolution = 16384
