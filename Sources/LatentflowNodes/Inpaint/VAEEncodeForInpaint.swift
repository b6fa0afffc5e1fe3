import LatentflowGraph
import LatentflowTensor

/// Encodes an image for inpainting: the masked pixels greyed out before encoding, and the mask,
/// grown by a few pixels, as the latent's noise mask.
///
/// Matches: ComfyUI `nodes.py` `VAEEncodeForInpaint.encode` (the growth is
/// `clamp(conv2d(round(mask), ones(g, g), padding=ceil((g − 1) / 2)), 0, 1)` cut to the image).
public struct VAEEncodeForInpaint: Node {
    static let pixels = Input<ImageBatch>("pixels")
    static let vae = Input<VAEModel>("vae")
    static let mask = Input<Mask>("mask")
    static let growMaskBy = Input.int("grow_mask_by", default: 6, min: 0, max: 64, step: 1)

    public static let schema = NodeSchema(
        "VAEEncodeForInpaint", displayName: "VAE Encode (for Inpainting)", category: "latent/inpaint",
        inputs: [pixels, vae, mask, growMaskBy], outputs: outputs(Output<Latent>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let vae = try inputs[Self.vae].autoencoder
        let prepared = try InpaintPixels(
            image: try inputs[Self.pixels], mask: try inputs[Self.mask], factor: vae.latentFormat.downscaleFactor)
        let grown = Self.grown(prepared.mask, by: try inputs[Self.growMaskBy])
        let samples = try encodeImages(prepared.maskedPixels, vae, context)
        return NodeOutputs(Latent(samples, noiseMask: grown))
    }

    /// Each pixel becomes 1 if any rounded mask pixel in the g×g window starting `ceil((g−1)/2)`
    /// above and left of it is 1 (the zero-padded box convolution, clamped); g = 0 keeps the mask.
    static func grown(_ mask: Tensor, by g: Int) -> Tensor {
        let rounded = mask.mapScalars { $0.rounded(.toNearestOrEven) }
        guard g > 0 else { return rounded }
        let (n, h, w) = (mask.dim(0), mask.dim(2), mask.dim(3))
        let pad = g / 2  // ceil((g − 1) / 2)
        // Window sums from a summed-area table: the sums of whole numbers are exact.
        var table = [Double](repeating: 0, count: (h + 1) * (w + 1))
        return rounded.withUnsafeBufferPointer { m in
            Tensor(shape: mask.shape) { out in
                for b in 0..<n {
                    for y in 0..<h {
                        for x in 0..<w {
                            table[(y + 1) * (w + 1) + x + 1] =
                                Double(m[(b * h + y) * w + x]) + table[y * (w + 1) + x + 1]
                                + table[(y + 1) * (w + 1) + x] - table[y * (w + 1) + x]
                        }
                    }
                    for y in 0..<h {
                        let (y0, y1) = (max(0, y - pad), min(h, y - pad + g))
                        for x in 0..<w {
                            let (x0, x1) = (max(0, x - pad), min(w, x - pad + g))
                            let sum =
                                table[y1 * (w + 1) + x1] - table[y0 * (w + 1) + x1] - table[y1 * (w + 1) + x0]
                                + table[y0 * (w + 1) + x0]
                            out[(b * h + y) * w + x] = Float(min(max(sum, 0), 1))
                        }
                    }
                }
            }
        }
    }
}
