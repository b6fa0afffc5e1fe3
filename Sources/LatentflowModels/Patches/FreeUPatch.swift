import Foundation
import LatentflowTensor

/// FreeU: on the decoder's two deepest channel widths, scales the first half of the backbone
/// features and damps the lowest frequencies of the skip features.
///
/// Matches: ComfyUI `comfy_extras/nodes_freelunch.py` (`FreeU`, `FreeU_V2`, `Fourier_filter`).
public enum FreeUPatch {
    public enum Version: Sendable { case v1, v2 }

    /// The `output_block_patch`: `(b1, s1)` where the features have `modelChannels·4` channels,
    /// `(b2, s2)` where they have `modelChannels·2`, nothing elsewhere.
    public static func outputBlockPatch(
        modelChannels: Int, b1: Float, b2: Float, s1: Float, s2: Float, version: Version
    ) -> UNetPatches.OutputBlock {
        let scales = [modelChannels * 4: (b1, s1), modelChannels * 2: (b2, s2)]
        return { h, skip, _, _ in
            guard let scale = scales[h.dim(1)] else { return (h, skip) }
            let (backbone, skipScale) = scale
            let scaled = version == .v1 ? try scaleHalf(h, by: backbone) : try scaleHalfV2(h, by: backbone)
            return (scaled, try lowFrequencyScaled(skip, threshold: 1, scale: skipScale))
        }
    }

    /// `h[:, :C/2] *= b`.
    static func scaleHalf(_ h: Tensor, by b: Float) throws -> Tensor {
        try scaleHalf(h) { _, _ in b }
    }

    /// FreeU_V2: `h[:, :C/2] *= (b − 1)·m + 1`, with m the channel mean min-max normalized over
    /// each sample's pixels (NaN on a constant mean, as in torch).
    static func scaleHalfV2(_ h: Tensor, by b: Float) throws -> Tensor {
        let (n, c, plane) = (h.dim(0), h.dim(1), h.dim(2) * h.dim(3))
        var factors = [Float](repeating: 0, count: n * plane)
        h.withUnsafeBufferPointer { src in
            for sample in 0..<n {
                var mean = [Float](repeating: 0, count: plane)
                for channel in 0..<c {
                    let base = (sample * c + channel) * plane
                    for p in 0..<plane { mean[p] += src[base + p] }
                }
                for p in 0..<plane { mean[p] /= Float(c) }
                let (low, high) = (mean.min() ?? 0, mean.max() ?? 0)
                for p in 0..<plane { factors[sample * plane + p] = (b - 1) * ((mean[p] - low) / (high - low)) + 1 }
            }
        }
        return try scaleHalf(h) { sample, p in factors[sample * plane + p] }
    }

    private static func scaleHalf(_ h: Tensor, factor: (_ sample: Int, _ pixel: Int) -> Float) throws -> Tensor {
        guard h.rank == 4 else { throw TensorError.shapeMismatch("FreeU needs [N, C, H, W] features, got \(h.shape)") }
        var out = h
        let (n, c, plane) = (h.dim(0), h.dim(1), h.dim(2) * h.dim(3))
        out.withUnsafeMutableBufferPointer { dst in
            for sample in 0..<n {
                for channel in 0..<(c / 2) {
                    let base = (sample * c + channel) * plane
                    for p in 0..<plane { dst[base + p] *= factor(sample, p) }
                }
            }
        }
        return out
    }

    /// `Fourier_filter`: FFT over (H, W), fftshift, the centre `2·threshold` square (cut as Python
    /// slices cut it) times `scale`, back, real part. The mask is 1 off that square, so this is
    /// x + (scale − 1)·(the inverse transform of those few frequencies alone): a projection onto at
    /// most 4·threshold² Fourier modes, computed directly in O(H·W) per mode without a full FFT.
    public static func lowFrequencyScaled(_ x: Tensor, threshold: Int, scale: Float) throws -> Tensor {
        guard x.rank == 4 else { throw TensorError.shapeMismatch("Fourier_filter needs [N, C, H, W], got \(x.shape)") }
        let (planes, height, width) = (x.dim(0) * x.dim(1), x.dim(2), x.dim(3))
        let rows = maskedFrequencies(length: height, threshold: threshold)
        let cols = maskedFrequencies(length: width, threshold: threshold)
        guard scale != 1, !rows.isEmpty, !cols.isEmpty, height * width > 0 else { return x }
        let rowModes = rows.map { Mode(frequency: $0, length: height) }
        let colModes = cols.map { Mode(frequency: $0, length: width) }
        let gain = Double(scale - 1) / Double(height * width)
        var out = x
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for plane in 0..<planes {
                    let base = plane * height * width
                    for col in colModes {
                        // Each row's transform along W at this column frequency.
                        var rowRe = [Double](repeating: 0, count: height), rowIm = rowRe
                        for y in 0..<height {
                            var (re, im) = (0.0, 0.0)
                            for x in 0..<width {
                                let value = Double(src[base + y * width + x])
                                re += value * col.cos[x]
                                im -= value * col.sin[x]
                            }
                            (rowRe[y], rowIm[y]) = (re, im)
                        }
                        for row in rowModes {
                            var (re, im) = (0.0, 0.0)  // X(u, v)
                            for y in 0..<height {
                                re += rowRe[y] * row.cos[y] + rowIm[y] * row.sin[y]
                                im += rowIm[y] * row.cos[y] - rowRe[y] * row.sin[y]
                            }
                            // Re(X · e^{iφ}) with φ = 2π(uy/H + vx/W).
                            for y in 0..<height {
                                let (a, b) = (re * row.cos[y] - im * row.sin[y], re * row.sin[y] + im * row.cos[y])
                                for x in 0..<width {
                                    let term = a * col.cos[x] - b * col.sin[x]
                                    dst[base + y * width + x] += Float(gain * term)
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// The frequencies under the mask along one axis: shifted indices `[n/2 − t, n/2 + t)` as a Python
    /// slice takes them (a negative start counts from the end), each holding frequency `(i − n/2) mod n`.
    static func maskedFrequencies(length n: Int, threshold t: Int) -> [Int] {
        guard n > 0 else { return [] }
        let centre = n / 2
        var start = centre - t
        if start < 0 { start = max(0, start + n) }
        let stop = min(n, centre + t)
        guard start < stop else { return [] }
        return (start..<stop).map { (($0 - centre) % n + n) % n }
    }

    /// cos and sin of 2π·k·i/n for i in 0..<n.
    private struct Mode {
        let cos: [Double], sin: [Double]
        init(frequency k: Int, length n: Int) {
            let angles = (0..<n).map { 2 * Double.pi * Double((k * $0) % n) / Double(n) }
            (cos, sin) = (angles.map(Foundation.cos), angles.map(Foundation.sin))
        }
    }
}
