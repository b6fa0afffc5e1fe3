import Foundation
import LatentflowGraph
import LatentflowTensor

/// Two images mixed by a blend mode and a factor, clamped to 0...1; image2 is resized (bicubic,
/// centre crop) to image1 when their shapes differ.
///
/// Matches: ComfyUI `comfy_extras/nodes_post_processing.py` `Blend.execute` / `blend_mode` / `g`
/// (float32; `image1 · (1 − f) + blended · f`). Images of different channel counts are refused
/// (later ComfyUI versions add or drop an alpha channel first).
public struct ImageBlend: Node {
    static let modes = ["normal", "multiply", "screen", "overlay", "soft_light", "difference"]
    static let image1 = Input<ImageBatch>("image1")
    static let image2 = Input<ImageBatch>("image2")
    static let factor = Input.float("blend_factor", default: 0.5, min: 0, max: 1, step: 0.01)
    static let mode = Input.combo("blend_mode", options: modes)

    public static let schema = NodeSchema(
        "ImageBlend", displayName: "Blend Images", category: "image/postprocessing",
        inputs: [image1, image2, factor, mode], outputs: outputs(Output<ImageBatch>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let first = try inputs[Self.image1]
        var second = try inputs[Self.image2]
        let mode = try inputs[Self.mode], factor = try inputs[Self.factor]
        guard Self.modes.contains(mode) else { throw NodeError("input 'blend_mode': unknown mode '\(mode)'") }
        guard first.channels == second.channels else {
            throw NodeError("image1 has \(first.channels) channels and image2 \(second.channels); they must match")
        }
        if first.pixels.shape != second.pixels.shape {
            try checkImageAllocation(second, width: first.width, height: first.height, context)
            second = try ImageBatch(
                channelsFirst: try commonUpscale(
                    try second.channelsFirst(), width: first.width, height: first.height, method: "bicubic",
                    crop: "center"))
        }
        guard second.count == first.count else {
            throw NodeError("image1 has \(first.count) images and image2 \(second.count); the batches must match")
        }
        // torch rounds 1 − f (a Python float) and f to float32 when it multiplies the tensors.
        let keep = Float(1 - factor), weight = Float(factor)
        let blended = try first.pixels.elementwise(second.pixels) { a, b in
            min(max(a * keep + Self.blend(a, b, mode) * weight, 0), 1)
        }
        return NodeOutputs(ImageBatch(blended))
    }

    /// `blend_mode` for one pair of values.
    static func blend(_ a: Float, _ b: Float, _ mode: String) -> Float {
        switch mode {
        case "multiply": return a * b
        case "screen": return 1 - (1 - a) * (1 - b)
        case "overlay": return a <= 0.5 ? 2 * a * b : 1 - 2 * (1 - a) * (1 - b)
        case "soft_light":
            let g = a <= 0.25 ? ((16 * a - 12) * a + 4) * a : a.squareRoot()
            return b <= 0.5 ? a - (1 - 2 * b) * a * (1 - a) : a + (2 * b - 1) * (g - a)
        case "difference": return a - b
        default: return b
        }
    }
}

extension Tensor {
    /// Element by element over two tensors of one shape.
    fileprivate func elementwise(_ other: Tensor, _ body: (Float, Float) -> Float) throws -> Tensor {
        guard shape == other.shape else { throw NodeError("shapes \(shape) and \(other.shape) differ") }
        return withUnsafeBufferPointer { a in
            other.withUnsafeBufferPointer { b in
                Tensor(shape: shape) { out in for i in 0..<out.count { out[i] = body(a[i], b[i]) } }
            }
        }
    }
}
