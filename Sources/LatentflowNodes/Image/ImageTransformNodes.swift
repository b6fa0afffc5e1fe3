import LatentflowGraph
import LatentflowTensor

// ComfyUI's image transform nodes from comfy_extras/nodes_images.py: crop, flip, rotate, and the
// resizes that pick their own target size (ResizeAndPadImage, ImageScaleToMaxDimension).

/// A rectangle of each image, clipped to the image (the corner is kept inside it).
///
/// Matches: `ImageCrop.execute` (`x = min(x, W - 1)`, `y = min(y, H - 1)`, then a slice).
public struct ImageCrop: Node {
    static let image = Input<ImageBatch>("image")
    static let width = Input.int("width", default: 512, min: 1, max: maxResolution, step: 1)
    static let height = Input.int("height", default: 512, min: 1, max: maxResolution, step: 1)
    static let x = Input.int("x", default: 0, min: 0, max: maxResolution, step: 1)
    static let y = Input.int("y", default: 0, min: 0, max: maxResolution, step: 1)

    public static let schema = NodeSchema(
        "ImageCrop", displayName: "Crop Image", category: "image/transform", inputs: [image, width, height, x, y],
        outputs: outputs(Output<ImageBatch>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let image = try inputs[Self.image]
        let left = min(try inputs[Self.x], image.width - 1), top = min(try inputs[Self.y], image.height - 1)
        let rows = min(try inputs[Self.height], image.height - top)
        let columns = min(try inputs[Self.width], image.width - left)
        return NodeOutputs(
            ImageBatch(
                try image.pixels.slice(axis: 1, start: top, length: rows).slice(axis: 2, start: left, length: columns)))
    }
}

/// Each image mirrored top to bottom ("x-axis") or left to right ("y-axis").
///
/// Matches: `ImageFlip.execute` (`torch.flip` over dims 1 or 2).
public struct ImageFlip: Node {
    static let image = Input<ImageBatch>("image")
    static let method = Input.combo("flip_method", options: ["x-axis: vertically", "y-axis: horizontally"])

    public static let schema = NodeSchema(
        "ImageFlip", category: "image/transform", inputs: [image, method], outputs: outputs(Output<ImageBatch>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let image = try inputs[Self.image]
        let method = try inputs[Self.method]
        guard method.hasPrefix("x") || method.hasPrefix("y") else {
            throw NodeError("input 'flip_method': unknown method '\(method)'")
        }
        return NodeOutputs(ImageBatch(image.pixels.flipped(axis: method.hasPrefix("x") ? 1 : 2)))
    }
}

/// Each image turned clockwise by a multiple of 90°.
///
/// Matches: `ImageRotate.execute` (`torch.rot90(image, k, dims=[2, 1])`).
public struct ImageRotate: Node {
    static let rotations = ["none", "90 degrees", "180 degrees", "270 degrees"]
    static let image = Input<ImageBatch>("image")
    static let rotation = Input.combo("rotation", options: rotations)

    public static let schema = NodeSchema(
        "ImageRotate", displayName: "Rotate", category: "image/transform", inputs: [image, rotation],
        outputs: outputs(Output<ImageBatch>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let image = try inputs[Self.image], name = try inputs[Self.rotation]
        guard let turns = Self.rotations.firstIndex(of: name) else {
            throw NodeError("input 'rotation': unknown rotation '\(name)'")
        }
        // rot90 over (W, H) of [B, H, W, C] is rot90 over (W, H) of [B, C, H, W].
        return NodeOutputs(try ImageBatch(channelsFirst: try image.channelsFirst().rotated90(turns)))
    }
}

/// Scales each image to fit `target_width` x `target_height` and pads the rest, centred.
///
/// Matches: `ResizeAndPadImage.execute` (size `int(side · min(scale_w, scale_h))`, offsets `//2`).
public struct ResizeAndPadImage: Node {
    static let image = Input<ImageBatch>("image")
    static let width = Input.int("target_width", default: 512, min: 1, max: maxResolution, step: 1)
    static let height = Input.int("target_height", default: 512, min: 1, max: maxResolution, step: 1)
    static let color = Input.combo("padding_color", options: ["white", "black"])
    static let method = Input.combo(
        "interpolation", options: ["area", "bicubic", "nearest-exact", "bilinear", "lanczos"])

    public static let schema = NodeSchema(
        "ResizeAndPadImage", category: "image/transform", inputs: [image, width, height, color, method],
        outputs: outputs(Output<ImageBatch>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let image = try inputs[Self.image]
        let (targetW, targetH) = (try inputs[Self.width], try inputs[Self.height])
        let scale = min(Double(targetW) / Double(image.width), Double(targetH) / Double(image.height))
        let (newW, newH) = (Int(Double(image.width) * scale), Int(Double(image.height) * scale))
        guard newW > 0, newH > 0 else {
            throw NodeError(
                "a \(image.width)x\(image.height) image scaled to fit \(targetW)x\(targetH) would be \(newW)x\(newH) pixels"
            )
        }
        try checkImageAllocation(image, width: targetW, height: targetH, context)
        let resized = try ImageBatch(
            channelsFirst: try commonUpscale(
                try image.channelsFirst(), width: newW, height: newH, method: try inputs[Self.method],
                crop: "disabled"))
        let fill: Float = try inputs[Self.color] == "black" ? 0 : 1
        let canvas = Tensor(shape: [image.count, targetH, targetW, image.channels], repeating: fill)
        return NodeOutputs(
            ImageBatch(try canvas.pasting(resized.pixels, top: (targetH - newH) / 2, left: (targetW - newW) / 2)))
    }
}

/// Scales each image so that its longer side is `largest_size`, keeping the aspect ratio.
///
/// Matches: `ImageScaleToMaxDimension.execute` (the other side `round`ed, Python's round).
public struct ImageScaleToMaxDimension: Node {
    static let image = Input<ImageBatch>("image")
    // ComfyUI lists "bilinear" twice; the list is kept as it is so that workflows match it.
    static let method = Input.combo(
        "upscale_method", options: ["area", "lanczos", "bilinear", "nearest-exact", "bilinear", "bicubic"])
    static let largestSize = Input.int("largest_size", default: 512, min: 0, max: maxResolution, step: 1)

    public static let schema = NodeSchema(
        "ImageScaleToMaxDimension", category: "image/upscaling", inputs: [image, method, largestSize],
        outputs: outputs(Output<ImageBatch>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let image = try inputs[Self.image], largest = try inputs[Self.largestSize]
        var (w, h) = (largest, largest)
        if image.height > image.width {
            w = Int((Double(image.width) / Double(image.height) * Double(largest)).rounded(.toNearestOrEven))
        } else if image.width > image.height {
            h = Int((Double(image.height) / Double(image.width) * Double(largest)).rounded(.toNearestOrEven))
        }
        guard w > 0, h > 0 else {
            throw NodeError(
                "input 'largest_size': \(largest) would scale the \(image.width)x\(image.height) image to \(w)x\(h) pixels"
            )
        }
        try checkImageAllocation(image, width: w, height: h, context)
        let scaled = try commonUpscale(
            try image.channelsFirst(), width: w, height: h, method: try inputs[Self.method], crop: "disabled")
        return NodeOutputs(try ImageBatch(channelsFirst: scaled))
    }
}

extension Tensor {
    /// `[B, H, W, C]` with `other` (same batch and channels) written at (`top`, `left`), clipped
    /// at the far edges (a sliced assignment).
    func pasting(_ other: Tensor, top: Int, left: Int) throws -> Tensor {
        try requireImage(self)
        try requireImage(other)
        guard other.dim(0) == dim(0), other.dim(3) == dim(3), top >= 0, left >= 0 else {
            throw NodeError("cannot paste an image \(other.shape) into \(shape) at (\(left), \(top))")
        }
        let (h, w, c) = (dim(1), dim(2), dim(3)), (oh, ow) = (other.dim(1), other.dim(2))
        let rows = Swift.min(oh, h - top), columns = Swift.min(ow, w - left)
        var result = self
        guard rows > 0, columns > 0 else { return result }
        result.withUnsafeMutableBufferPointer { out in
            other.withUnsafeBufferPointer { src in
                for b in 0..<dim(0) {
                    for y in 0..<rows {
                        let from = ((b * oh + y) * ow) * c, to = ((b * h + top + y) * w + left) * c
                        (out.baseAddress! + to).update(from: src.baseAddress! + from, count: columns * c)
                    }
                }
            }
        }
        return result
    }
}
