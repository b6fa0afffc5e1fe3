import Foundation
import LatentflowIO
import LatentflowTensor

/// Turns the sampler's denoised prediction (model space, `[B, C, h, w]`) into a small RGB image
/// of its first sample, cheaply enough to run every step.
///
/// Matches: ComfyUI `latent_preview.py` (`LatentPreviewer.decode_latent_to_preview`,
/// `preview_to_image`; the two implementations below).
public protocol LatentPreviewer: Sendable {
    /// `[3, H, W]` in -1…1 (unclamped) for the first sample of `x0`.
    func previewPixels(_ x0: Tensor) throws -> Tensor
}

extension LatentPreviewer {
    /// `preview_to_image`: clamp to -1…1, `(x + 1) · 127.5`, rounded to 8-bit RGB; then
    /// `server.py` `send_image`'s `ImageOps.contain(image, (size, size), BILINEAR)`, which
    /// scales the image (up or down) to fit `size` x `size`.
    public func previewImage(_ x0: Tensor, maxSize: Int?) throws -> RasterImage {
        var pixels = try previewPixels(x0).clamped(min: -1, max: 1).scaled(by: 1, adding: 1).scaled(by: 127.5)
            .mapScalars { $0.rounded(.toNearestOrEven) }
        if let maxSize, maxSize > 0 {
            let (h, w) = Self.contained(height: pixels.dim(1), width: pixels.dim(2), in: maxSize)
            if (h, w) != (pixels.dim(1), pixels.dim(2)) {
                pixels = try pixels.resized(height: h, width: w, mode: .bilinear)
                    .mapScalars { $0.rounded(.toNearestOrEven) }.clamped(min: 0, max: 255)
            }
        }
        let (h, w) = (pixels.dim(1), pixels.dim(2))
        let bytes = pixels.withUnsafeBufferPointer { src in
            // NaN (a diverged sampler) fails both comparisons and previews black.
            (0..<(h * w * 3)).map { i -> UInt8 in
                let value = src[(i % 3) * h * w + i / 3]
                return value >= 0 && value <= 255 ? UInt8(value) : 0
            }
        }
        return RasterImage(width: w, height: h, channels: 3, samples: .uint8(bytes))
    }

    /// The preview as ComfyUI sends it: JPEG at quality 95.
    public func previewJPEG(_ x0: Tensor, maxSize: Int?) throws -> Data {
        try ImageCodec.encodeJPEG(previewImage(x0, maxSize: maxSize), quality: 95)
    }

    /// PIL `ImageOps.contain`'s size: the longer side becomes `size`, the other keeps the
    /// aspect ratio (Python `round`).
    static func contained(height: Int, width: Int, in size: Int) -> (Int, Int) {
        if width > height {
            return (Int((Double(height) / Double(width) * Double(size)).rounded(.toNearestOrEven)), size)
        }
        if height > width {
            return (size, Int((Double(width) / Double(height) * Double(size)).rounded(.toNearestOrEven)))
        }
        return (size, size)
    }
}

/// `Latent2RGBPreviewer`: each latent pixel through a fixed `[C, 3]` matrix (and bias), no network.
public struct Latent2RGBPreviewer: LatentPreviewer {
    /// `factors[c]` is latent channel c's (R, G, B) weight.
    public let factors: [[Float]]
    public let bias: [Float]?

    public init(factors: [[Float]], bias: [Float]? = nil) { (self.factors, self.bias) = (factors, bias) }

    /// `comfy/latent_formats.py` `SD15.latent_rgb_factors` (SD1.x and SD2.x; no bias).
    public static let sd15 = Latent2RGBPreviewer(factors: [
        [0.3512, 0.2297, 0.3227],
        [0.3250, 0.4974, 0.2350],
        [-0.2829, 0.1762, 0.2721],
        [-0.2120, -0.2616, -0.7177],
    ])

    public func previewPixels(_ x0: Tensor) throws -> Tensor {
        guard x0.rank == 4, x0.dim(1) == factors.count, x0.dim(0) > 0 else {
            throw TensorError.invalidArgument(
                "latent2rgb previews take [B, \(factors.count), H, W] latents, got \(x0.shape)")
        }
        let (h, w) = (x0.dim(2), x0.dim(3))
        let tokens = try x0.slice(axis: 0, start: 0, length: 1).reshaped([factors.count, h * w]).permuted([1, 0])
        let weight = try Tensor(shape: [3, factors.count], scalars: (0..<3).flatMap { rgb in factors.map { $0[rgb] } })
        let rgb = try tokens.linear(weight: weight, bias: bias.map { try Tensor(shape: [3], scalars: $0) })
        return try rgb.permuted([1, 0]).reshaped([3, h, w])
    }
}

/// `TAESDPreviewerImpl`: the TAESD decoder (scale 1: it decodes model-space latents) on the
/// first sample.
public struct TAESDPreviewer: LatentPreviewer {
    public let taesd: TAESD

    public init(_ taesd: TAESD) { self.taesd = taesd }

    public func previewPixels(_ x0: Tensor) throws -> Tensor {
        guard x0.rank == 4, x0.dim(1) == taesd.latentChannels, x0.dim(0) > 0 else {
            throw TensorError.invalidArgument(
                "TAESD previews take [B, \(taesd.latentChannels), H, W] latents, got \(x0.shape)")
        }
        let decoded = try taesd.decode(x0.slice(axis: 0, start: 0, length: 1))
        return try decoded.reshaped([3, decoded.dim(2), decoded.dim(3)])
    }
}
