import LatentflowGraph
import LatentflowTensor

/// Pastes `source` `[B, C, h, w]` into `destination` `[B, C, H, W]` at (x, y) (in units of
/// `multiplier` pixels), blended by a mask stretched over the source (1: source, 0: destination).
///
/// Matches: ComfyUI `comfy_extras/nodes_mask.py` `composite` (bilinear source resize and mask
/// resize, `repeat_to_batch_size`, the visible part only, `mask·source + (1 − mask)·destination`).
func maskedComposite(
    destination: Tensor, source: Tensor, x: Int, y: Int, mask: Tensor?, multiplier: Int, resizeSource: Bool
) throws -> Tensor {
    let (n, c, h, w) = (destination.dim(0), destination.dim(1), destination.dim(2), destination.dim(3))
    var source = source
    if resizeSource { source = try source.resized(height: h, width: w, mode: .bilinear) }
    source = try source.repeatedToBatch(n)
    guard source.dim(1) == c else {
        throw NodeError("the source has \(source.dim(1)) channels but the destination \(c)")
    }
    let (sh, sw) = (source.dim(2), source.dim(3))
    // The nodes' offsets are at least 0 (ComfyUI's clamp below 0 only matters for its own callers).
    let left = max(0, min(x, w * multiplier)) / multiplier, top = max(0, min(y, h * multiplier)) / multiplier
    var weights: Tensor?
    if let mask {
        weights = try maskPlanes(mask, input: "mask").resized(height: sh, width: sw, mode: .bilinear)
            .repeatedToBatch(n)
    }
    // The destination rows/columns the source covers, and where they start in the source.
    let rows = min(sh, h - top), columns = min(sw, w - left)
    var output = destination
    source.withUnsafeBufferPointer { s in
        output.withUnsafeMutableBufferPointer { out in
            for b in 0..<n {
                for yy in 0..<rows {
                    for xx in 0..<columns {
                        let m = weights.map { $0.scalars[(b * sh + yy) * sw + xx] } ?? 1
                        let keep = 1 - m
                        for ch in 0..<c {
                            let target = ((b * c + ch) * h + top + yy) * w + left + xx
                            out[target] = m * s[((b * c + ch) * sh + yy) * sw + xx] + keep * out[target]
                        }
                    }
                }
            }
        }
    }
    return output
}

/// Pastes one latent into another at a position, through an optional mask.
///
/// Matches: ComfyUI `comfy_extras/nodes_mask.py` `LatentCompositeMasked.execute` (offsets in
/// 8-pixel steps; the destination's other fields, such as its noise mask, carry over).
public struct LatentCompositeMasked: Node {
    static let destination = Input<Latent>("destination")
    static let source = Input<Latent>("source")
    static let x = Input.int("x", default: 0, min: 0, max: maxResolution, step: 8)
    static let y = Input.int("y", default: 0, min: 0, max: maxResolution, step: 8)
    static let resizeSource = Input.boolean("resize_source", default: false)
    static let mask = Input<Mask>("mask", optional: true)
    public static let schema = NodeSchema(
        "LatentCompositeMasked", category: "latent", inputs: [destination, source, x, y, resizeSource, mask],
        outputs: outputs(Output<Latent>()))
    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var output = try inputs[Self.destination]
        output.samples = try maskedComposite(
            destination: output.samples, source: try inputs[Self.source].samples, x: try inputs[Self.x],
            y: try inputs[Self.y], mask: try inputs.optional(Self.mask)?.values, multiplier: 8,
            resizeSource: try inputs[Self.resizeSource])
        return NodeOutputs(output)
    }
}

/// Pastes one image into another at a pixel position, through an optional mask.
///
/// Matches: ComfyUI `comfy_extras/nodes_mask.py` `ImageCompositeMasked.execute` (with
/// `node_helpers.image_alpha_fix`: a source with more channels is cut to the destination's, one
/// with fewer gains an opaque alpha channel).
public struct ImageCompositeMasked: Node {
    static let destination = Input<ImageBatch>("destination")
    static let source = Input<ImageBatch>("source")
    static let x = Input.int("x", default: 0, min: 0, max: maxResolution, step: 1)
    static let y = Input.int("y", default: 0, min: 0, max: maxResolution, step: 1)
    static let resizeSource = Input.boolean("resize_source", default: false)
    static let mask = Input<Mask>("mask", optional: true)
    public static let schema = NodeSchema(
        "ImageCompositeMasked", category: "image", inputs: [destination, source, x, y, resizeSource, mask],
        outputs: outputs(Output<ImageBatch>()))
    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let destination = try inputs[Self.destination].channelsFirst()
        var source = try inputs[Self.source].channelsFirst()
        if destination.dim(1) < source.dim(1) {
            source = try source.slice(axis: 1, start: 0, length: destination.dim(1))
        } else if destination.dim(1) > source.dim(1) {
            let alpha = Tensor(shape: [source.dim(0), 1, source.dim(2), source.dim(3)], repeating: 1)
            source = try Tensor.concat([source, alpha], axis: 1)
        }
        let output = try maskedComposite(
            destination: destination, source: source, x: try inputs[Self.x], y: try inputs[Self.y],
            mask: try inputs.optional(Self.mask)?.values, multiplier: 1, resizeSource: try inputs[Self.resizeSource])
        return NodeOutputs(try ImageBatch(channelsFirst: output))
    }
}
