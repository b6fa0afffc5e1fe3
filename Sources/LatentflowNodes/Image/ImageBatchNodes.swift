import LatentflowGraph
import LatentflowTensor

// ComfyUI's image batch nodes: `ImageBatch` (nodes.py), `RepeatImageBatch`, `ImageFromBatch`,
// `GetImageSize` (comfy_extras/nodes_images.py) and `RebatchImages` (comfy_extras/nodes_rebatch.py).

/// Two image batches as one; the second is resized (bilinear, centre crop) to the first's size.
///
/// Matches: `ImageBatch.batch` (a missing alpha channel is added as 1 first).
public struct ImageBatchNode: Node {
    static let image1 = Input<ImageBatch>("image1")
    static let image2 = Input<ImageBatch>("image2")

    public static let schema = NodeSchema(
        "ImageBatch", displayName: "Batch Images", category: "image/batch", inputs: [image1, image2],
        outputs: outputs(Output<ImageBatch>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var first = try inputs[Self.image1].pixels, second = try inputs[Self.image2].pixels
        // ComfyUI pads the image with fewer channels by one channel of 1.0 (an opaque alpha).
        if first.dim(3) != second.dim(3) {
            guard abs(first.dim(3) - second.dim(3)) == 1 else {
                throw NodeError(
                    "image1 has \(first.dim(3)) channels and image2 \(second.dim(3)); they can differ by one (alpha) at most"
                )
            }
            if first.dim(3) > second.dim(3) {
                second = try second.appendingChannels(1, value: 1)
            } else {
                first = try first.appendingChannels(1, value: 1)
            }
        }
        if first.shape.dropFirst() != second.shape.dropFirst() {
            try checkImageAllocation(ImageBatch(second), width: first.dim(2), height: first.dim(1), context)
            second = try ImageBatch(
                channelsFirst: try commonUpscale(
                    try ImageBatch(second).channelsFirst(), width: first.dim(2), height: first.dim(1),
                    method: "bilinear", crop: "center")
            ).pixels
        }
        return NodeOutputs(ImageBatch(try Tensor.concat([first, second], axis: 0)))
    }
}

/// The batch repeated `amount` times.
///
/// Matches: `RepeatImageBatch.execute` (`image.repeat((amount, 1, 1, 1))`).
public struct RepeatImageBatch: Node {
    static let image = Input<ImageBatch>("image")
    static let amount = Input.int("amount", default: 1, min: 1, max: 4096)

    public static let schema = NodeSchema(
        "RepeatImageBatch", category: "image/batch", inputs: [image, amount], outputs: outputs(Output<ImageBatch>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let image = try inputs[Self.image], amount = try inputs[Self.amount]
        try context.checkAllocation(
            shape: [image.count * amount, image.height, image.width, image.channels],
            for: describeBatch(image.count * amount, "image", width: image.width, height: image.height))
        return NodeOutputs(ImageBatch(try Tensor.concat(Array(repeating: image.pixels, count: amount), axis: 0)))
    }
}

/// `length` images of a batch from `batch_index`, both clamped to the batch.
///
/// Matches: `ImageFromBatch.execute`.
public struct ImageFromBatch: Node {
    static let image = Input<ImageBatch>("image")
    static let batchIndex = Input.int("batch_index", default: 0, min: 0, max: 4095)
    static let length = Input.int("length", default: 1, min: 1, max: 4096)

    public static let schema = NodeSchema(
        "ImageFromBatch", category: "image/batch", inputs: [image, batchIndex, length],
        outputs: outputs(Output<ImageBatch>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let image = try inputs[Self.image]
        let start = min(image.count - 1, try inputs[Self.batchIndex])
        let length = min(image.count - start, try inputs[Self.length])
        return NodeOutputs(ImageBatch(try image.pixels.slice(axis: 0, start: start, length: length)))
    }
}

/// Width, height and batch size of an image batch.
///
/// Matches: `GetImageSize.execute` (ComfyUI also shows the size as progress text on the node).
public struct GetImageSize: Node {
    static let image = Input<ImageBatch>("image")

    public static let schema = NodeSchema(
        "GetImageSize", displayName: "Get Image Size", category: "image",
        description: "Returns width and height of the image, and passes it through unchanged.", inputs: [image],
        outputs: outputs(Output<Int>("width"), Output<Int>("height"), Output<Int>("batch_size")))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let image = try inputs[Self.image]
        return NodeOutputs(image.width, image.height, image.count)
    }
}

/// A list of image batches regrouped into batches of `batch_size` (the last may be shorter).
///
/// Matches: `ImageRebatch.rebatch` (INPUT_IS_LIST, OUTPUT_IS_LIST): every image of every input
/// batch, in order, concatenated `batch_size` at a time.
public struct RebatchImages: Node {
    static let images = Input<ImageBatch>("images")
    static let batchSize = Input.int("batch_size", default: 1, min: 1, max: 4096)

    public static let schema = NodeSchema(
        "RebatchImages", displayName: "Rebatch Images", category: "image/batch", inputs: [images, batchSize],
        outputs: outputs(Output<ImageBatch>(isList: true)), inputIsList: true)

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let batches = try inputs.list(Self.images)
        guard let size = try inputs.list(Self.batchSize).first else {
            throw NodeError("input 'batch_size' is missing")
        }
        let singles = try batches.flatMap { batch in
            try (0..<batch.count).map { try batch.pixels.slice(axis: 0, start: $0, length: 1) }
        }
        var output: [any Sendable] = []
        for start in stride(from: 0, to: singles.count, by: size) {
            let group = Array(singles[start..<min(start + size, singles.count)])
            guard group.allSatisfy({ $0.shape == group[0].shape }) else {
                throw NodeError(
                    "images of one output batch must have the same size, got \(group.map { Array($0.shape.dropFirst()) })"
                )
            }
            output.append(ImageBatch(try Tensor.concat(group, axis: 0)))
        }
        return NodeOutputs(values: [output])
    }
}

extension Tensor {
    /// `[B, H, W, C]` with `count` more channels of `value` (`torch.cat` with `torch.ones`, or
    /// `F.pad(x, (0, count), value=...)`).
    func appendingChannels(_ count: Int, value: Float) throws -> Tensor {
        try requireImage(self)
        let (n, h, w, c) = (dim(0), dim(1), dim(2), dim(3))
        return withUnsafeBufferPointer { src in
            Tensor(shape: [n, h, w, c + count]) { out in
                for pixel in 0..<(n * h * w) {
                    for ch in 0..<c { out[pixel * (c + count) + ch] = src[pixel * c + ch] }
                    for ch in c..<(c + count) { out[pixel * (c + count) + ch] = value }
                }
            }
        }
    }
}

/// Refuses a tensor that is not `[B, H, W, C]`.
func requireImage(_ pixels: Tensor) throws {
    guard pixels.rank == 4 else { throw NodeError("expected an IMAGE [B, H, W, C], got shape \(pixels.shape)") }
}
