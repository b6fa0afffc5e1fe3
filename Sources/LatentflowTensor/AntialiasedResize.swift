/// `F.interpolate(x, size, mode="bicubic", antialias=True)` on `[..., H, W]`: PyTorch's separable
/// convolution resampling (its `_upsample_bicubic2d_aa`, the scheme PIL uses), with Keys' cubic
/// (a = -0.5) widened by the scale when shrinking, taps cut at the edges and renormalised. Width is
/// resampled first, then height; an axis whose size does not change is left as it is. Weights and
/// sums are float32, as torch computes them for float32 input.
extension Tensor {
    public func resizedBicubicAntialiased(height: Int, width: Int) throws -> Tensor {
        try requireShape(rank >= 2 && dim(-2) > 0 && dim(-1) > 0, "antialiased resize needs [..., H, W], got \(shape)")
        guard height > 0, width > 0 else { throw TensorError.invalidArgument("resize to \(height)x\(width)") }
        var result = self
        if width != dim(-1) { result = result.resampledLastAxis(to: width) }
        if height != dim(-2) {
            let order = Array(0..<(rank - 2)) + [rank - 1, rank - 2]
            result = try result.permuted(order).resampledLastAxis(to: height).permuted(order)
        }
        return result
    }

    /// Keys' cubic convolution kernel with a = -0.5.
    static func antialiasCubic(_ x: Float) -> Float {
        let a: Float = -0.5, x = abs(x)
        if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
        if x < 2 { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
        return 0
    }

    /// Every row of the last axis resampled to `size` samples.
    private func resampledLastAxis(to size: Int) -> Tensor {
        let input = dim(-1), rows = count / input
        let scale = Float(input) / Float(size)
        let support: Float = scale >= 1 ? 2 * scale : 2
        let inverse: Float = scale >= 1 ? 1 / scale : 1
        var starts = [Int](repeating: 0, count: size), taps: [[Float]] = []
        for i in 0..<size {
            let center = scale * (Float(i) + 0.5)
            let start = Swift.max(Int(center - support + 0.5), 0)
            let stop = Swift.min(Int(center + support + 0.5), input)
            var weights = (start..<stop).map { Self.antialiasCubic((Float($0) - center + 0.5) * inverse) }
            let total = weights.reduce(0, +)
            if total != 0 { weights = weights.map { $0 / total } }
            starts[i] = start
            taps.append(weights)
        }
        var outShape = shape
        outShape[rank - 1] = size
        return Tensor(shape: outShape) { out in
            self.withUnsafeBufferPointer { x in
                for row in 0..<rows {
                    for i in 0..<size {
                        var sum: Float = 0
                        for (j, weight) in taps[i].enumerated() { sum += x[row * input + starts[i] + j] * weight }
                        out[row * size + i] = sum
                    }
                }
            }
        }
    }
}
