import LatentflowGraph
import LatentflowTensor

/// The pixel-space preparation VAEEncodeForInpaint and InpaintModelConditioning share.
///
/// Matches: ComfyUI `nodes.py` `VAEEncodeForInpaint.encode` / `InpaintModelConditioning.encode`:
/// the mask stretched bilinearly to the image, both centre-cropped to whole latent pixels, and
/// the masked pixels (where the rounded mask is 1) set to mid-grey.
struct InpaintPixels {
    /// `[B, 3, h, w]`, h and w multiples of the VAE's factor.
    let pixels: Tensor
    /// `[B, 1, h, w]`, the stretched mask (not rounded).
    let mask: Tensor
    /// The cropped image with masked pixels at 0.5.
    let maskedPixels: Tensor

    init(image: ImageBatch, mask: Mask, factor: Int) throws {
        var pixels = try image.channelsFirst()
        if pixels.dim(1) > 3 { pixels = try pixels.slice(axis: 1, start: 0, length: 3) }
        let (h, w) = (pixels.dim(2), pixels.dim(3))
        guard h >= factor, w >= factor else {
            throw NodeError(
                "input 'pixels': an image of \(w)x\(h) is smaller than one latent pixel (\(factor)x\(factor))")
        }
        var planes = try maskPlanes(mask.values, input: "mask").resized(height: h, width: w, mode: .bilinear)
        let (cropH, cropW) = (h / factor * factor, w / factor * factor)
        if (cropH, cropW) != (h, w) {
            let (top, left) = ((h % factor) / 2, (w % factor) / 2)
            pixels = try pixels.slice(axis: 2, start: top, length: cropH).slice(axis: 3, start: left, length: cropW)
            planes = try planes.slice(axis: 2, start: top, length: cropH).slice(axis: 3, start: left, length: cropW)
        }
        (self.pixels, self.mask) = (pixels, planes)
        maskedPixels = try Self.greyed(pixels, under: planes)
    }

    /// `(p − 0.5)·(1 − round(mask)) + 0.5` per channel; the mask's batch must be 1 or the image's.
    static func greyed(_ pixels: Tensor, under mask: Tensor) throws -> Tensor {
        let (n, c, h, w) = (pixels.dim(0), pixels.dim(1), pixels.dim(2), pixels.dim(3))
        guard mask.dim(0) == 1 || mask.dim(0) == n else {
            throw NodeError("input 'mask': a batch of \(mask.dim(0)) masks for a batch of \(n) images (give 1 or \(n))")
        }
        let keep = mask.mapScalars { 1 - $0.rounded(.toNearestOrEven) }
        let plane = h * w, maskStride = mask.dim(0) == 1 ? 0 : plane
        var out = pixels
        keep.withUnsafeBufferPointer { k in
            out.withUnsafeMutableBufferPointer { p in
                for b in 0..<n {
                    for ch in 0..<c {
                        for i in 0..<plane {
                            let index = (b * c + ch) * plane + i
                            p[index] = (p[index] - 0.5) * k[b * maskStride + i] + 0.5
                        }
                    }
                }
            }
        }
        return out
    }
}
