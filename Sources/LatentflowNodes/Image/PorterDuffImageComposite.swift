import LatentflowGraph
import LatentflowTensor

/// Porter-Duff compositing of a source image over a destination, each with a MASK (1 − alpha).
///
/// Matches: ComfyUI `comfy_extras/nodes_compositing.py` `PorterDuffImageComposite.execute` and
/// `porter_duff_composite`: per image of the shortest batch, the destination alpha is resized to
/// the destination, the source to the destination and the source alpha to the destination alpha
/// (bicubic, centre crop); the colours are premultiplied, combined, divided by the output alpha
/// (0 where it is at most 1e-5) and clamped to 0...1.
public struct PorterDuffImageComposite: Node {
    static let modes = [
        "ADD", "CLEAR", "DARKEN", "DST", "DST_ATOP", "DST_IN", "DST_OUT", "DST_OVER", "LIGHTEN", "MULTIPLY",
        "OVERLAY", "SCREEN", "SRC", "SRC_ATOP", "SRC_IN", "SRC_OUT", "SRC_OVER", "XOR",
    ]
    static let source = Input<ImageBatch>("source")
    static let sourceAlpha = Input<Mask>("source_alpha")
    static let destination = Input<ImageBatch>("destination")
    static let destinationAlpha = Input<Mask>("destination_alpha")
    static let mode = Input.combo("mode", options: modes, default: "DST")

    public static let schema = NodeSchema(
        "PorterDuffImageComposite", displayName: "Porter-Duff Image Composite", category: "mask/compositing",
        inputs: [source, sourceAlpha, destination, destinationAlpha, mode],
        outputs: outputs(Output<ImageBatch>(), Output<Mask>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let source = try inputs[Self.source].pixels, destination = try inputs[Self.destination].pixels
        let sourceAlpha = try maskStack(try inputs[Self.sourceAlpha].values, input: "source_alpha")
        let destinationAlpha = try maskStack(try inputs[Self.destinationAlpha].values, input: "destination_alpha")
        let mode = try inputs[Self.mode]
        guard Self.modes.contains(mode) else { throw NodeError("input 'mode': unknown mode '\(mode)'") }
        guard source.dim(3) == destination.dim(3) else {
            throw NodeError(
                "source has \(source.dim(3)) channels and destination \(destination.dim(3)); they must match")
        }
        let count = min(source.dim(0), sourceAlpha.dim(0), destination.dim(0), destinationAlpha.dim(0))
        let (h, w, c) = (destination.dim(1), destination.dim(2), destination.dim(3))
        var images: [Tensor] = [], masks: [Tensor] = []
        for i in 0..<count {
            // [1, C, H, W] planes, resized as ComfyUI resizes them.
            var dstAlpha = try plane(destinationAlpha, i)
            if dstAlpha.dim(2) != h || dstAlpha.dim(3) != w {
                dstAlpha = try commonUpscale(dstAlpha, width: w, height: h, method: "bicubic", crop: "center")
            }
            var src = try ImageBatch(try source.slice(axis: 0, start: i, length: 1)).channelsFirst()
            if src.dim(2) != h || src.dim(3) != w {
                src = try commonUpscale(src, width: w, height: h, method: "bicubic", crop: "center")
            }
            var srcAlpha = try plane(sourceAlpha, i)
            if srcAlpha.dim(2) != dstAlpha.dim(2) || srcAlpha.dim(3) != dstAlpha.dim(3) {
                srcAlpha = try commonUpscale(
                    srcAlpha, width: dstAlpha.dim(3), height: dstAlpha.dim(2), method: "bicubic", crop: "center")
            }
            let dst = try ImageBatch(try destination.slice(axis: 0, start: i, length: 1)).channelsFirst()
            let (image, alpha) = Self.composite(
                src: src.scalars, srcAlpha: srcAlpha.scalars, dst: dst.scalars, dstAlpha: dstAlpha.scalars,
                pixels: h * w, channels: c, mode: mode)
            images.append(try ImageBatch(channelsFirst: try Tensor(shape: [1, c, h, w], scalars: image)).pixels)
            masks.append(try Tensor(shape: [1, h, w], scalars: alpha))
        }
        guard !images.isEmpty else { throw NodeError("an input batch is empty") }
        return NodeOutputs(ImageBatch(try Tensor.concat(images, axis: 0)), Mask(try Tensor.concat(masks, axis: 0)))
    }

    /// Mask `index` of `[B, H, W]` as a `[1, 1, H, W]` plane.
    private func plane(_ masks: Tensor, _ index: Int) throws -> Tensor {
        try masks.slice(axis: 0, start: index, length: 1).reshaped([1, 1, masks.dim(1), masks.dim(2)])
    }

    /// `porter_duff_composite` on channel-first planes (`pixels` per channel); returns the colours
    /// and the output mask.
    static func composite(
        src: [Float], srcAlpha: [Float], dst: [Float], dstAlpha: [Float], pixels: Int, channels: Int, mode: String
    ) -> (image: [Float], mask: [Float]) {
        var image = [Float](repeating: 0, count: pixels * channels), mask = [Float](repeating: 0, count: pixels)
        for p in 0..<pixels {
            let sa = 1 - srcAlpha[p], da = 1 - dstAlpha[p]
            let alpha: Float
            switch mode {
            case "ADD": alpha = min(max(sa + da, 0), 1)
            case "CLEAR": alpha = 0
            case "DST": alpha = da
            case "DST_ATOP", "SRC": alpha = sa
            case "DST_IN", "SRC_IN", "MULTIPLY": alpha = sa * da
            case "DST_OUT": alpha = (1 - sa) * da
            case "DST_OVER": alpha = da + (1 - da) * sa
            case "SRC_ATOP": alpha = da
            case "SRC_OUT": alpha = (1 - da) * sa
            case "SRC_OVER": alpha = sa + (1 - sa) * da
            case "XOR": alpha = (1 - da) * sa + (1 - sa) * da
            default: alpha = sa + da - sa * da  // DARKEN, LIGHTEN, OVERLAY, SCREEN
            }
            for ch in 0..<channels {
                let s = src[ch * pixels + p] * sa, d = dst[ch * pixels + p] * da
                let value: Float
                switch mode {
                case "ADD": value = min(max(s + d, 0), 1)
                case "CLEAR": value = 0
                case "DARKEN": value = (1 - da) * s + (1 - sa) * d + min(s, d)
                case "DST": value = d
                case "DST_ATOP": value = sa * d + (1 - da) * s
                case "DST_IN": value = d * sa
                case "DST_OUT": value = (1 - sa) * d
                case "DST_OVER": value = d + (1 - da) * s
                case "LIGHTEN": value = (1 - da) * s + (1 - sa) * d + max(s, d)
                case "MULTIPLY": value = s * d
                case "OVERLAY": value = 2 * d < da ? 2 * s * d : sa * da - 2 * (da - s) * (sa - d)
                case "SCREEN": value = s + d - s * d
                case "SRC": value = s
                case "SRC_ATOP": value = da * s + (1 - sa) * d
                case "SRC_IN": value = s * da
                case "SRC_OUT": value = (1 - da) * s
                case "SRC_OVER": value = s + (1 - sa) * d
                default: value = (1 - da) * s + (1 - sa) * d  // XOR
                }
                // torch compares with 1e-5 rounded to float32; NaN-free inputs clamp like torch.clamp.
                let straight = alpha > Float(1e-5) ? value / alpha : 0
                image[ch * pixels + p] = min(max(straight, 0), 1)
            }
            mask[p] = 1 - alpha
        }
        return (image, mask)
    }
}
