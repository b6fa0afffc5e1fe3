import Latentflow

/// A third-party node pack: it registers through the same `NodePack` API as the built-in nodes.
/// In your own Swift package, depend on Latentflow's `LatentflowGraph` and `LatentflowNodes`
/// products, define nodes like this, and pass the pack to `Engine(paths:packs:)`.
public enum ExampleNodes: NodePack {
    public static let name = "example-nodes"
    public static let nodes: [any Node.Type] = [ImageGrayscale.self, ImageBrightness.self]
}

/// Converts images to grey with the Rec. 601 luma weights.
public struct ImageGrayscale: Node {
    static let image = Input<ImageBatch>("image")

    public static let schema = NodeSchema(
        "ExampleImageGrayscale", displayName: "Image to Grayscale (example)", category: "examples",
        description: "Replaces each pixel by its Rec. 601 luma.",
        inputs: [image], outputs: outputs(Output<ImageBatch>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let pixels = try inputs[Self.image].pixels  // [B, H, W, 3]
        let grey = Tensor(shape: pixels.shape) { out in
            for p in 0..<(pixels.count / 3) {
                let y =
                    0.299 * pixels.scalars[3 * p] + 0.587 * pixels.scalars[3 * p + 1] + 0.114
                    * pixels.scalars[3 * p + 2]
                out[3 * p] = y
                out[3 * p + 1] = y
                out[3 * p + 2] = y
            }
        }
        return NodeOutputs(ImageBatch(grey))
    }
}

/// Multiplies images by a factor, clamped to 0...1.
public struct ImageBrightness: Node {
    static let image = Input<ImageBatch>("image")
    static let factor = Input.float(
        "factor", default: 1.0, min: 0, max: 4, step: 0.05, tooltip: "1 leaves the image unchanged.")

    public static let schema = NodeSchema(
        "ExampleImageBrightness", displayName: "Image Brightness (example)", category: "examples",
        inputs: [image, factor], outputs: outputs(Output<ImageBatch>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let scaled = try inputs[Self.image].pixels.scaled(by: Float(try inputs[Self.factor])).clamped(min: 0, max: 1)
        return NodeOutputs(ImageBatch(scaled))
    }
}

/// Typed composition helpers, so pipelines built in Swift can use the pack's nodes with types.
extension GraphBuilder {
    public func grayscale(_ image: OutputRef<ImageBatch>) -> OutputRef<ImageBatch> {
        add(ImageGrayscale.self, ["image": image]).output(0)
    }

    public func brightness(_ image: OutputRef<ImageBatch>, _ factor: Double) -> OutputRef<ImageBatch> {
        add(ImageBrightness.self, ["image": image, "factor": factor]).output(0)
    }
}
