import Foundation

/// Pillow's `Image.resize(size, Image.Resampling.LANCZOS)` on 8-bit images: a separable
/// 3-lobe Lanczos filter whose weights are computed in double, rounded to 22-bit fixed point,
/// and applied with integer sums. The first pass is itself rounded to 8 bits before the second
/// reads it, so the order of the passes shows in the result: horizontal first, unless the
/// height shrinks by more than twice as many pixels as the width (Pillow 13).
///
/// Matches: Pillow 13.0 `src/libImaging/Resample.c` (`precompute_coeffs`, `normalize_coeffs_8bpc`,
/// `ImagingResampleHorizontal_8bpc`, `ImagingResampleVertical_8bpc`, `ImagingResampleInner`).
/// Pillow before 13 always ran the horizontal pass first.
public enum LanczosResample {
    /// Pillow's `PRECISION_BITS` (32 - 8 - 2).
    static let precisionBits = 22

    /// The taps of one output coordinate along one axis: the first input index and the
    /// fixed-point weights of the inputs that follow it.
    struct Taps {
        var first: [Int]
        var weights: [[Int]]
    }

    /// Pillow's `lanczos_filter`: sinc(x)·sinc(x/3) on [-3, 3).
    static func filter(_ x: Double) -> Double {
        func sinc(_ x: Double) -> Double {
            if x == 0 { return 1 }
            let t = x * Double.pi
            return sin(t) / t
        }
        return -3 <= x && x < 3 ? sinc(x) * sinc(x / 3) : 0
    }

    /// `precompute_coeffs` over the whole axis (box 0...input) followed by `normalize_coeffs_8bpc`.
    static func taps(input: Int, output: Int) -> Taps {
        let scale = Double(input) / Double(output)
        let filterScale = max(scale, 1)
        let support = 3 * filterScale, inverseScale = 1 / filterScale
        var first: [Int] = [], weights: [[Int]] = []
        for dst in 0..<output {
            let center = (Double(dst) + 0.5) * scale
            // C's (int) cast truncates toward zero; the clamp makes the sign of that moot.
            let lower = max(Int(center - support + 0.5), 0)
            let upper = min(Int(center + support + 0.5), input)
            var raw = (lower..<max(lower, upper)).map { filter((Double($0) - center + 0.5) * inverseScale) }
            let total = raw.reduce(0, +)
            if total != 0 { raw = raw.map { $0 / total } }
            let unit = Double(1 << precisionBits)
            first.append(lower)
            weights.append(raw.map { $0 < 0 ? Int(-0.5 + $0 * unit) : Int(0.5 + $0 * unit) })
        }
        return Taps(first: first, weights: weights)
    }

    /// Pillow's `clip8`: the fixed-point sum shifted down (arithmetically) and clamped to 0...255.
    @inline(__always)
    static func clip8(_ sum: Int) -> UInt8 { UInt8(min(max(sum >> precisionBits, 0), 255)) }

    /// Resizes one `height` x `width` plane of `channels` interleaved 8-bit samples.
    public static func resize(
        _ pixels: [UInt8], height: Int, width: Int, channels: Int, toHeight: Int, toWidth: Int
    ) -> [UInt8] {
        let verticalFirst = height - toHeight > 0 && height - toHeight > (width - toWidth) * 2
        if verticalFirst {
            let tall = vertical(pixels, height: height, width: width, channels: channels, to: toHeight)
            return horizontal(tall, height: toHeight, width: width, channels: channels, to: toWidth)
        }
        let wide = horizontal(pixels, height: height, width: width, channels: channels, to: toWidth)
        return vertical(wide, height: height, width: toWidth, channels: channels, to: toHeight)
    }

    /// The horizontal pass (`ImagingResampleHorizontal_8bpc`); the same width copies.
    static func horizontal(_ source: [UInt8], height h: Int, width w: Int, channels: Int, to width: Int) -> [UInt8] {
        guard width != w else { return source }
        let taps = Self.taps(input: w, output: width)
        var out = [UInt8](repeating: 0, count: h * width * channels)
        for y in 0..<h {
            for x in 0..<width {
                let start = taps.first[x], weights = taps.weights[x]
                for c in 0..<channels {
                    var sum = 1 << (precisionBits - 1)
                    for (k, weight) in weights.enumerated() {
                        sum += Int(source[(y * w + start + k) * channels + c]) * weight
                    }
                    out[(y * width + x) * channels + c] = clip8(sum)
                }
            }
        }
        return out
    }

    /// The vertical pass (`ImagingResampleVertical_8bpc`); the same height copies.
    static func vertical(_ source: [UInt8], height h: Int, width w: Int, channels: Int, to height: Int) -> [UInt8] {
        guard height != h else { return source }
        let taps = Self.taps(input: h, output: height)
        let row = w * channels
        var out = [UInt8](repeating: 0, count: height * row)
        for y in 0..<height {
            let start = taps.first[y], weights = taps.weights[y]
            for i in 0..<row {
                var sum = 1 << (precisionBits - 1)
                for (k, weight) in weights.enumerated() { sum += Int(source[(start + k) * row + i]) * weight }
                out[y * row + i] = clip8(sum)
            }
        }
        return out
    }
}

extension Tensor {
    /// ComfyUI's `comfy.utils.lanczos` on `[N, C, H, W]` in 0...1: each image is quantised as
    /// `clip(255·x, 0, 255).astype(uint8)` (truncating; NaN becomes 0), resized by Pillow's
    /// Lanczos, and read back as `v / 255`. Pillow treats 2- and 4-channel arrays as LA/RGBA and
    /// premultiplies alpha around the resize, which this does not reproduce, so only 1 and 3
    /// channels (modes L and RGB) are accepted.
    public func resizedLanczos(height: Int, width: Int) throws -> Tensor {
        try requireShape(rank == 4, "lanczos resize needs [N, C, H, W], got \(shape)")
        guard height > 0, width > 0 else { throw TensorError.invalidArgument("resize to \(height)x\(width)") }
        let (n, c, h, w) = (dim(0), dim(1), dim(2), dim(3))
        try requireShape(h > 0 && w > 0, "cannot resize an empty image \(shape)")
        guard c == 1 || c == 3 else {
            throw TensorError.invalidArgument(
                "lanczos resizes 1- or 3-channel images (Pillow's L and RGB modes), got \(c) channels")
        }
        let planes = withUnsafeBufferPointer { src in
            (0..<n).map { image -> [UInt8] in
                var bytes = [UInt8](repeating: 0, count: h * w * c)
                for ch in 0..<c {
                    for i in 0..<(h * w) {
                        let v = 255 * src[(image * c + ch) * h * w + i]
                        bytes[i * c + ch] = v.isNaN ? 0 : UInt8(Swift.min(Swift.max(v, 0), 255))
                    }
                }
                return bytes
            }
        }
        return Tensor(shape: [n, c, height, width]) { out in
            parallelFor(n) { image in
                let resized = LanczosResample.resize(
                    planes[image], height: h, width: w, channels: c, toHeight: height, toWidth: width)
                let base = out.baseAddress! + image * c * height * width
                for ch in 0..<c {
                    for i in 0..<(height * width) { base[ch * height * width + i] = Float(resized[i * c + ch]) / 255 }
                }
            }
        }
    }
}
