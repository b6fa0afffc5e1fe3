import LatentflowGraph
import LatentflowTensor

/// `image2` placed beside `image1` (right, down, left or up), optionally resized to match and
/// separated by a coloured strip.
///
/// Matches: ComfyUI `comfy_extras/nodes_images.py` `ImageStitch.execute`: the shorter batch
/// repeats its last image; `match_image_size` resizes image2 with Lanczos to image1's height
/// (or width), `int()`-truncating the other side; otherwise the smaller image is padded, centred,
/// with the spacing colour (0 for the RGB colours); a missing alpha channel is added as 1; the
/// spacing width is rounded up to even.
public struct ImageStitch: Node {
    static let colors: [String: [Float]] = [
        "white": [1], "black": [0], "red": [1, 0, 0], "green": [0, 1, 0], "blue": [0, 0, 1],
    ]
    static let image1 = Input<ImageBatch>("image1")
    static let direction = Input.combo("direction", options: ["right", "down", "left", "up"], default: "right")
    static let matchSize = Input.boolean("match_image_size", default: true)
    static let spacingWidth = Input.int("spacing_width", default: 0, min: 0, max: 1024, step: 2)
    static let spacingColor = Input.combo(
        "spacing_color", options: ["white", "black", "red", "green", "blue"], default: "white")
    static let image2 = Input<ImageBatch>("image2", optional: true)

    public static let schema = NodeSchema(
        "ImageStitch", displayName: "Image Stitch", category: "image/transform",
        description:
            "Stitches image2 to image1 in the specified direction.\nIf image2 is not provided, returns image1 unchanged.\nOptional spacing can be added between images.",
        inputs: [image1, direction, matchSize, spacingWidth, spacingColor, image2],
        outputs: outputs(Output<ImageBatch>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var first = try inputs[Self.image1].pixels
        guard var second = try inputs.optional(Self.image2)?.pixels else { return NodeOutputs(ImageBatch(first)) }
        let direction = try inputs[Self.direction], colorName = try inputs[Self.spacingColor]
        guard let color = Self.colors[colorName] else {
            throw NodeError("input 'spacing_color': unknown '\(colorName)'")
        }
        let horizontal = direction == "left" || direction == "right"
        let batch = max(first.dim(0), second.dim(0))
        (first, second) = (try first.extendingBatch(to: batch), try second.extendingBatch(to: batch))
        if try inputs[Self.matchSize] {
            let aspect = Double(second.dim(2)) / Double(second.dim(1))
            let (h, w) =
                horizontal
                ? (first.dim(1), Int(Double(first.dim(1)) * aspect))
                : (Int(Double(first.dim(2)) / aspect), first.dim(2))
            guard h > 0, w > 0 else { throw NodeError("image2 resized to match image1 would be \(w)x\(h) pixels") }
            try checkImageAllocation(ImageBatch(second), width: w, height: h, context)
            second = try ImageBatch(
                channelsFirst: try commonUpscale(
                    try ImageBatch(second).channelsFirst(), width: w, height: h, method: "lanczos", crop: "disabled")
            ).pixels
        } else {
            let fill = color.count == 1 ? color[0] : 0
            let axis = horizontal ? 1 : 2
            let size = max(first.dim(axis), second.dim(axis))
            (first, second) = (
                try first.centred(axis: axis, to: size, fill: fill),
                try second.centred(axis: axis, to: size, fill: fill)
            )
        }
        let channels = max(first.dim(3), second.dim(3))
        if first.dim(3) < channels { first = try first.appendingChannels(channels - first.dim(3), value: 1) }
        if second.dim(3) < channels { second = try second.appendingChannels(channels - second.dim(3), value: 1) }
        var parts = direction == "left" || direction == "up" ? [second, first] : [first, second]
        var spacing = try inputs[Self.spacingWidth]
        if spacing > 0 {
            spacing += spacing % 2
            let shape =
                horizontal
                ? [batch, max(first.dim(1), second.dim(1)), spacing, channels]
                : [batch, spacing, max(first.dim(2), second.dim(2)), channels]
            parts.insert(Self.strip(shape, color: color), at: 1)
        }
        return NodeOutputs(ImageBatch(try Tensor.concat(parts, axis: horizontal ? 2 : 1)))
    }

    /// The spacing strip: an RGB colour fills its first channels, a grey level the first three;
    /// a fourth (alpha) channel is 1, any others 0.
    static func strip(_ shape: [Int], color: [Float]) -> Tensor {
        let channels = shape[3]
        var pixel = [Float](repeating: 0, count: channels)
        for i in 0..<min(channels, color.count == 1 ? 3 : color.count) {
            pixel[i] = color.count == 1 ? color[0] : color[i]
        }
        if channels == 4 { pixel[3] = 1 }
        return Tensor(shape: shape) { out in
            for i in 0..<out.count { out[i] = pixel[i % channels] }
        }
    }
}

extension Tensor {
    /// `[B, H, W, C]` grown to `count` images by repeating the last one.
    func extendingBatch(to count: Int) throws -> Tensor {
        let n = dim(0)
        guard n < count else { return self }
        let last = try slice(axis: 0, start: n - 1, length: 1)
        return try Tensor.concat([self] + Array(repeating: last, count: count - n), axis: 0)
    }

    /// `[B, H, W, C]` padded along `axis` (1 or 2) to `size` with `fill`, the image centred
    /// (the extra pixel of an odd padding goes after it, as `F.pad(p // 2, p - p // 2)`).
    func centred(axis: Int, to size: Int, fill: Float) throws -> Tensor {
        let current = dim(axis)
        guard current < size else { return self }
        var shape = self.shape
        shape[axis] = size
        let offset = (size - current) / 2
        return try Tensor(shape: shape, repeating: fill).pasting(
            self, top: axis == 1 ? offset : 0, left: axis == 2 ? offset : 0)
    }
}
