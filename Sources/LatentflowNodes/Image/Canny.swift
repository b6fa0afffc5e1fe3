import LatentflowGraph
import LatentflowTensor

/// Canny edges of each image, white on black, as an IMAGE.
///
/// Matches: ComfyUI `comfy_extras/nodes_canny.py` `Canny` (kornia's `canny`, edges output,
/// repeated to three channels).
public struct Canny: Node {
    static let image = Input<ImageBatch>("image")
    static let low = Input.float("low_threshold", default: 0.4, min: 0.01, max: 0.99, step: 0.01)
    static let high = Input.float("high_threshold", default: 0.8, min: 0.01, max: 0.99, step: 0.01)

    public static let schema = NodeSchema(
        "Canny", category: "image/preprocessors", inputs: [image, low, high], outputs: outputs(Output<ImageBatch>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let image = try inputs[Self.image]
        let (low, high) = (try inputs[Self.low], try inputs[Self.high])
        guard low <= high else {
            throw NodeError("low_threshold (\(low)) must not be above high_threshold (\(high))")
        }
        guard image.channels == 1 || image.channels == 3, image.height >= 3, image.width >= 3 else {
            throw NodeError(
                "Canny needs images of 1 or 3 channels and at least 3x3 pixels, got \(image.pixels.shape)")
        }
        let (h, w, c) = (image.height, image.width, image.channels)
        let pixels = image.pixels.scalars
        var out = [Float](repeating: 0, count: image.count * h * w * 3)
        for b in 0..<image.count {
            let base = b * h * w * c
            let gray = (0..<h * w).map { i -> Float in
                c == 1
                    ? pixels[base + i]
                    : 0.299 * pixels[base + i * 3] + 0.587 * pixels[base + i * 3 + 1] + 0.114 * pixels[base + i * 3 + 2]
            }
            let edges = CannyEdges.edges(gray, height: h, width: w, low: Float(low), high: Float(high))
            for i in 0..<h * w {
                for ch in 0..<3 { out[(b * h * w + i) * 3 + ch] = edges[i] }
            }
        }
        return NodeOutputs(ImageBatch(try Tensor(shape: [image.count, h, w, 3], scalars: out)))
    }
}
