import Foundation
import LatentflowGraph
import LatentflowTensor

/// The resize methods ComfyUI offers for images.
let imageUpscaleMethods = ["nearest-exact", "bilinear", "area", "bicubic", "lanczos"]
let cropMethods = ["disabled", "center"]

/// The memory budget check for scaling an image batch to `width` x `height`.
func checkImageAllocation(_ image: ImageBatch, width: Int, height: Int, _ context: ExecutionContext) throws {
    try context.checkAllocation(
        shape: [image.count, height, width, image.channels],
        for: describeBatch(image.count, "image", width: width, height: height))
}

/// ComfyUI's `common_upscale` on `[B, C, H, W]`: optional centre crop to the target aspect (offsets
/// rounded half to even, Python's `round`), then `bislerp`, Pillow's Lanczos on 8-bit images, or
/// `F.interpolate` semantics.
func commonUpscale(_ samples: Tensor, width: Int, height: Int, method: String, crop: String) throws -> Tensor {
    var source = samples
    if crop == "center" {
        let (oldH, oldW) = (samples.dim(2), samples.dim(3))
        let oldAspect = Double(oldW) / Double(oldH), newAspect = Double(width) / Double(height)
        var x = 0, y = 0
        if oldAspect > newAspect {
            x = Int(((Double(oldW) - Double(oldW) * (newAspect / oldAspect)) / 2).rounded(.toNearestOrEven))
        } else if oldAspect < newAspect {
            y = Int(((Double(oldH) - Double(oldH) * (oldAspect / newAspect)) / 2).rounded(.toNearestOrEven))
        }
        source = try samples.slice(axis: 2, start: y, length: oldH - 2 * y).slice(
            axis: 3, start: x, length: oldW - 2 * x)
    }
    switch method {
    case "bislerp": return try source.bislerped(height: height, width: width)
    case "lanczos": return try source.resizedLanczos(height: height, width: width)
    default:
        guard let mode = ResizeMode(rawValue: method) else {
            throw NodeError("unknown upscale method '\(method)'")
        }
        return try source.resized(height: height, width: width, mode: mode)
    }
}

public struct ImageScale: Node {
    static let image = Input<ImageBatch>("image")
    static let method = Input.combo("upscale_method", options: imageUpscaleMethods)
    static let width = Input.int("width", default: 512, min: 0, max: maxResolution, step: 1)
    static let height = Input.int("height", default: 512, min: 0, max: maxResolution, step: 1)
    static let crop = Input.combo("crop", options: cropMethods)

    public static let schema = NodeSchema(
        "ImageScale", displayName: "Upscale Image", category: "image/upscaling",
        description: "Resizes images; a width or height of 0 keeps the aspect ratio.",
        inputs: [image, method, width, height, crop], outputs: outputs(Output<ImageBatch>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let image = try inputs[Self.image]
        var (w, h) = (try inputs[Self.width], try inputs[Self.height])
        if w == 0 && h == 0 { return NodeOutputs(image) }
        if w == 0 {
            w = max(1, Int((Double(image.width) * Double(h) / Double(image.height)).rounded(.toNearestOrEven)))
        }
        if h == 0 {
            h = max(1, Int((Double(image.height) * Double(w) / Double(image.width)).rounded(.toNearestOrEven)))
        }
        try checkImageAllocation(image, width: w, height: h, context)
        let scaled = try commonUpscale(
            try image.channelsFirst(), width: w, height: h,
            method: try inputs[Self.method], crop: try inputs[Self.crop])
        return NodeOutputs(try ImageBatch(channelsFirst: scaled))
    }
}

public struct ImageScaleBy: Node {
    static let image = Input<ImageBatch>("image")
    static let method = Input.combo("upscale_method", options: imageUpscaleMethods)
    static let scaleBy = Input.float("scale_by", default: 1.0, min: 0.01, max: 8.0, step: 0.01)

    public static let schema = NodeSchema(
        "ImageScaleBy", displayName: "Upscale Image By", category: "image/upscaling",
        inputs: [image, method, scaleBy], outputs: outputs(Output<ImageBatch>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let image = try inputs[Self.image]
        let scale = try inputs[Self.scaleBy]
        let w = Int((Double(image.width) * scale).rounded(.toNearestOrEven)),
            h = Int((Double(image.height) * scale).rounded(.toNearestOrEven))
        try checkImageAllocation(image, width: w, height: h, context)
        let scaled = try commonUpscale(
            try image.channelsFirst(), width: w, height: h, method: try inputs[Self.method], crop: "disabled")
        return NodeOutputs(try ImageBatch(channelsFirst: scaled))
    }
}

public struct ImageScaleToTotalPixels: Node {
    static let image = Input<ImageBatch>("image")
    static let method = Input.combo("upscale_method", options: imageUpscaleMethods)
    static let megapixels = Input.float("megapixels", default: 1.0, min: 0.01, max: 16.0, step: 0.01)

    public static let schema = NodeSchema(
        "ImageScaleToTotalPixels", category: "image/upscaling",
        description: "Resizes images to about the given number of megapixels, keeping the aspect ratio.",
        inputs: [image, method, megapixels], outputs: outputs(Output<ImageBatch>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let image = try inputs[Self.image]
        let total = Double(Int(try inputs[Self.megapixels] * 1024 * 1024))
        let scale = (total / Double(image.width * image.height)).squareRoot()
        let w = Int((Double(image.width) * scale).rounded(.toNearestOrEven)),
            h = Int((Double(image.height) * scale).rounded(.toNearestOrEven))
        try checkImageAllocation(image, width: w, height: h, context)
        let scaled = try commonUpscale(
            try image.channelsFirst(), width: w, height: h, method: try inputs[Self.method], crop: "disabled")
        return NodeOutputs(try ImageBatch(channelsFirst: scaled))
    }
}
