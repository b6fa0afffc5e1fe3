import LatentflowGraph
import LatentflowTensor

/// 1 where a pixel's 8-bit RGB (rounded half to even, as torch rounds) is exactly `color`
/// (0xRRGGBB), else 0.
///
/// Matches: ComfyUI `comfy_extras/nodes_mask.py` `ImageColorToMask.image_to_mask`.
public struct ImageColorToMask: Node {
    static let image = Input<ImageBatch>("image")
    static let color = Input.int("color", default: 0, min: 0, max: 0xFFFFFF, step: 1)

    public static let schema = NodeSchema(
        "ImageColorToMask", category: "mask", inputs: [image, color], outputs: outputs(Output<Mask>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let batch = try inputs[Self.image], color = try inputs[Self.color]
        guard batch.channels >= 3 else {
            throw NodeError("ImageColorToMask needs RGB images, got \(batch.channels) channel(s)")
        }
        let (n, h, w, c) = (batch.count, batch.height, batch.width, batch.channels)
        let level = { (x: Float) in Int((min(max(x, 0), 1) * 255).rounded(.toNearestOrEven)) }
        let mask = Tensor(shape: [n, h, w]) { out in
            batch.pixels.withUnsafeBufferPointer { p in
                for pixel in 0..<(n * h * w) {
                    let rgb = level(p[pixel * c]) << 16 + level(p[pixel * c + 1]) << 8 + level(p[pixel * c + 2])
                    out[pixel] = rgb == color ? 1 : 0
                }
            }
        }
        return NodeOutputs(Mask(mask))
    }
}
