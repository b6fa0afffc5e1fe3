import LatentflowGraph
import LatentflowTensor

// The simple mask nodes of ComfyUI's `comfy_extras/nodes_mask.py`: conversions to and from
// images, a solid mask, inversion, cropping and thresholding.

/// A mask as a grey RGB image.
///
/// Matches: `MaskToImage.execute` (`reshape((-1, 1, H, W)).movedim(1, -1).expand(-1, -1, -1, 3)`).
public struct MaskToImage: Node {
    static let mask = Input<Mask>("mask")
    public static let schema = NodeSchema(
        "MaskToImage", displayName: "Convert Mask to Image", category: "mask", inputs: [mask],
        outputs: outputs(Output<ImageBatch>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let planes = try maskPlanes(try inputs[Self.mask].values, input: "mask")
        let (n, h, w) = (planes.dim(0), planes.dim(2), planes.dim(3))
        let image = planes.withUnsafeBufferPointer { m in
            Tensor(shape: [n, h, w, 3]) { out in
                for i in 0..<m.count { for c in 0..<3 { out[i * 3 + c] = m[i] } }
            }
        }
        return NodeOutputs(ImageBatch(image))
    }
}

/// One channel of an image as a mask.
///
/// Matches: `ImageToMask.execute` (`image[:, :, :, channel]`).
public struct ImageToMask: Node {
    static let image = Input<ImageBatch>("image")
    static let channel = Input.combo("channel", options: ["red", "green", "blue", "alpha"])
    public static let schema = NodeSchema(
        "ImageToMask", displayName: "Convert Image to Mask", category: "mask", inputs: [image, channel],
        outputs: outputs(Output<Mask>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let image = try inputs[Self.image], name = try inputs[Self.channel]
        guard let channel = ["red", "green", "blue", "alpha"].firstIndex(of: name) else {
            throw NodeError("input 'channel': unknown channel '\(name)'")
        }
        guard channel < image.channels else {
            throw NodeError(
                "input 'channel': '\(name)' needs a \(channel + 1)-channel image, this one has \(image.channels)")
        }
        let (n, h, w, c) = (image.count, image.height, image.width, image.channels)
        let mask = image.pixels.withUnsafeBufferPointer { p in
            Tensor(shape: [n, h, w]) { out in
                for i in 0..<out.count { out[i] = p[i * c + channel] }
            }
        }
        return NodeOutputs(Mask(mask))
    }
}

/// A mask of one value.
///
/// Matches: `SolidMask.execute` (`torch.full((1, height, width), value)`).
public struct SolidMask: Node {
    static let value = Input.float("value", default: 1.0, min: 0, max: 1, step: 0.01)
    static let width = Input.int("width", default: 512, min: 1, max: maxResolution, step: 1)
    static let height = Input.int("height", default: 512, min: 1, max: maxResolution, step: 1)
    public static let schema = NodeSchema(
        "SolidMask", category: "mask", inputs: [value, width, height], outputs: outputs(Output<Mask>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let (w, h) = (try inputs[Self.width], try inputs[Self.height])
        try context.checkAllocation(shape: [1, h, w], for: "a \(w)x\(h) mask")
        return NodeOutputs(Mask(Tensor(shape: [1, h, w], repeating: Float(try inputs[Self.value]))))
    }
}

/// `1 − mask`.
///
/// Matches: `InvertMask.execute`.
public struct InvertMask: Node {
    static let mask = Input<Mask>("mask")
    public static let schema = NodeSchema(
        "InvertMask", category: "mask", inputs: [mask], outputs: outputs(Output<Mask>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(Mask(try inputs[Self.mask].values.scaled(by: -1, adding: 1)))
    }
}

/// A rectangle of a mask (clipped to the mask, as a Python slice is).
///
/// Matches: `CropMask.execute` (`mask.reshape((-1, H, W))[:, y:y + height, x:x + width]`).
public struct CropMask: Node {
    static let mask = Input<Mask>("mask")
    static let x = Input.int("x", default: 0, min: 0, max: maxResolution, step: 1)
    static let y = Input.int("y", default: 0, min: 0, max: maxResolution, step: 1)
    static let width = Input.int("width", default: 512, min: 1, max: maxResolution, step: 1)
    static let height = Input.int("height", default: 512, min: 1, max: maxResolution, step: 1)
    public static let schema = NodeSchema(
        "CropMask", category: "mask", inputs: [mask, x, y, width, height], outputs: outputs(Output<Mask>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let planes = try maskStack(try inputs[Self.mask].values, input: "mask")
        let (h, w) = (planes.dim(1), planes.dim(2))
        let top = min(try inputs[Self.y], h), left = min(try inputs[Self.x], w)
        let rows = min(try inputs[Self.height], h - top), columns = min(try inputs[Self.width], w - left)
        return NodeOutputs(
            Mask(try planes.slice(axis: 1, start: top, length: rows).slice(axis: 2, start: left, length: columns)))
    }
}

/// 1 where the mask is above a value, else 0.
///
/// Matches: `ThresholdMask.execute` (`(mask > value).float()`).
public struct ThresholdMask: Node {
    static let mask = Input<Mask>("mask")
    static let value = Input.float("value", default: 0.5, min: 0, max: 1, step: 0.01)
    public static let schema = NodeSchema(
        "ThresholdMask", category: "mask", inputs: [mask, value], outputs: outputs(Output<Mask>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        // torch compares the float32 mask with the Python float promoted to float32.
        let value = Float(try inputs[Self.value])
        return NodeOutputs(Mask(try inputs[Self.mask].values.mapScalars { $0 > value ? 1 : 0 }))
    }
}

/// A MASK as `[B, H, W]` (`mask.reshape((-1, H, W))`), refused with the input named when it has
/// no two spatial dimensions.
func maskStack(_ mask: Tensor, input: String) throws -> Tensor {
    let planes = try maskPlanes(mask, input: input)
    return try planes.reshaped([planes.dim(0), planes.dim(2), planes.dim(3)])
}
