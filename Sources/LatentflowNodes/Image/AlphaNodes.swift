import LatentflowGraph
import LatentflowTensor

// ComfyUI's alpha nodes from comfy_extras/nodes_compositing.py. A MASK is 1 − alpha throughout.

/// The RGB channels of each image and its mask (1 − alpha; 0 for an image without alpha).
///
/// Matches: `SplitImageWithAlpha.execute`.
public struct SplitImageWithAlpha: Node {
    static let image = Input<ImageBatch>("image")

    public static let schema = NodeSchema(
        "SplitImageWithAlpha", displayName: "Split Image with Alpha", category: "mask/compositing",
        inputs: [image], outputs: outputs(Output<ImageBatch>(), Output<Mask>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let image = try inputs[Self.image]
        let (n, h, w, c) = (image.count, image.height, image.width, image.channels)
        guard c >= 3 else { throw NodeError("input 'image': needs at least 3 channels, got \(c)") }
        let (rgb, mask) = image.pixels.withUnsafeBufferPointer { p in
            (
                Tensor(shape: [n, h, w, 3]) { out in
                    for i in 0..<(n * h * w) { for ch in 0..<3 { out[i * 3 + ch] = p[i * c + ch] } }
                },
                Tensor(shape: [n, h, w]) { out in
                    for i in 0..<(n * h * w) { out[i] = 1 - (c > 3 ? p[i * c + 3] : 1) }
                }
            )
        }
        return NodeOutputs(ImageBatch(rgb), Mask(mask))
    }
}

/// The RGB channels of each image with 1 − mask as alpha; the mask is resized (bilinear) to the
/// image and both batches are repeated to the longer one.
///
/// Matches: `JoinImageWithAlpha.execute` (`repeat_to_batch_size`, `resize_mask`).
public struct JoinImageWithAlpha: Node {
    static let image = Input<ImageBatch>("image")
    static let alpha = Input<Mask>("alpha")

    public static let schema = NodeSchema(
        "JoinImageWithAlpha", displayName: "Join Image with Alpha", category: "mask/compositing",
        inputs: [image, alpha], outputs: outputs(Output<ImageBatch>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let image = try inputs[Self.image]
        let planes = try maskStack(try inputs[Self.alpha].values, input: "alpha")
        guard image.channels >= 3 else {
            throw NodeError("input 'image': needs at least 3 channels, got \(image.channels)")
        }
        let batch = max(image.count, planes.dim(0))
        let pixels = try image.pixels.repeatedToBatch(batch)
        let (h, w, c) = (image.height, image.width, image.channels)
        try context.checkAllocation(shape: [batch, h, w, 4], for: describeBatch(batch, "image", width: w, height: h))
        // resize_mask: F.interpolate(bilinear) of [B, 1, H, W] to the image size.
        let resized = try planes.repeatedToBatch(batch).reshaped([batch, 1, planes.dim(1), planes.dim(2)])
            .resized(height: h, width: w, mode: .bilinear)
        let joined = pixels.withUnsafeBufferPointer { p in
            resized.withUnsafeBufferPointer { m in
                Tensor(shape: [batch, h, w, 4]) { out in
                    for i in 0..<(batch * h * w) {
                        for ch in 0..<3 { out[i * 4 + ch] = p[i * c + ch] }
                        out[i * 4 + 3] = 1 - m[i]
                    }
                }
            }
        }
        return NodeOutputs(ImageBatch(joined))
    }
}
