import LatentflowGraph
import LatentflowTensor

/// Pads an image with mid-grey for outpainting, with a mask that is 1 over the padding and fades
/// quadratically into the image over `feathering` pixels along the padded sides.
///
/// Matches: ComfyUI `nodes.py` `ImagePadForOutpaint.expand_image` (its mask is `[H, W]`; here
/// `[1, H, W]`, which every mask consumer reads alike).
public struct ImagePadForOutpaint: Node {
    static let image = Input<ImageBatch>("image")
    static let left = Input.int("left", default: 0, min: 0, max: maxResolution, step: 8)
    static let top = Input.int("top", default: 0, min: 0, max: maxResolution, step: 8)
    static let right = Input.int("right", default: 0, min: 0, max: maxResolution, step: 8)
    static let bottom = Input.int("bottom", default: 0, min: 0, max: maxResolution, step: 8)
    static let feathering = Input.int("feathering", default: 40, min: 0, max: maxResolution, step: 1)

    public static let schema = NodeSchema(
        "ImagePadForOutpaint", displayName: "Pad Image for Outpainting", category: "image",
        inputs: [image, left, top, right, bottom, feathering], outputs: outputs(Output<ImageBatch>(), Output<Mask>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let image = try inputs[Self.image]
        let (left, top) = (try inputs[Self.left], try inputs[Self.top])
        let (right, bottom) = (try inputs[Self.right], try inputs[Self.bottom])
        let (n, h, w, c) = (image.count, image.height, image.width, image.channels)
        let (newH, newW) = (h + top + bottom, w + left + right)
        try context.checkAllocation(
            shape: [n + 1, newH, newW, c], for: describeBatch(n, "image", width: newW, height: newH))
        var padded = Tensor(shape: [n, newH, newW, c], repeating: 0.5)
        image.pixels.withUnsafeBufferPointer { src in
            padded.withUnsafeMutableBufferPointer { out in
                for b in 0..<n {
                    for y in 0..<h {
                        let from = ((b * h + y) * w) * c, to = ((b * newH + top + y) * newW + left) * c
                        (out.baseAddress! + to).update(from: src.baseAddress! + from, count: w * c)
                    }
                }
            }
        }
        let fade = Self.feather(
            height: h, width: w, feathering: try inputs[Self.feathering],
            sides: (top: top != 0, bottom: bottom != 0, left: left != 0, right: right != 0))
        var mask = Tensor(shape: [1, newH, newW], repeating: 1)
        mask.withUnsafeMutableBufferPointer { out in
            for y in 0..<h { for x in 0..<w { out[(top + y) * newW + left + x] = fade[y * w + x] } }
        }
        return NodeOutputs(ImageBatch(padded), Mask(mask))
    }

    /// The mask over the original image: ((f − d) / f)² where d, the distance to the nearest padded
    /// side, is below f; 0 elsewhere, and all 0 unless 2f is below both sides' lengths.
    static func feather(
        height h: Int, width w: Int, feathering f: Int, sides: (top: Bool, bottom: Bool, left: Bool, right: Bool)
    ) -> [Float] {
        var t = [Float](repeating: 0, count: h * w)
        guard f > 0, f * 2 < h, f * 2 < w else { return t }
        for i in 0..<h {
            for j in 0..<w {
                let d = min(
                    sides.top ? i : h, sides.bottom ? h - i : h, sides.left ? j : w, sides.right ? w - j : w)
                guard d < f else { continue }
                let v = Double(f - d) / Double(f)
                t[i * w + j] = Float(v * v)
            }
        }
        return t
    }
}
