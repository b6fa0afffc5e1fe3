import Foundation

extension Tensor {
    /// ComfyUI's `bislerp` resize of `[N, C, H, W]`: bilinear sampling positions, but each pair of
    /// neighbouring pixels (their C-channel vectors) is blended by spherical interpolation of the
    /// directions with linearly interpolated lengths; first along the width, then the height.
    ///
    /// Matches: ComfyUI `comfy/utils.py` `bislerp` (`slerp`, `generate_bilinear_data`), float32.
    public func bislerped(height: Int, width: Int) throws -> Tensor {
        try requireShape(rank == 4, "bislerp needs [N, C, H, W], got \(shape)")
        guard height > 0, width > 0 else { throw TensorError.invalidArgument("resize to \(height)x\(width)") }
        try requireShape(dim(2) > 0 && dim(3) > 0, "cannot resize an empty image \(shape)")
        let wide = try slerpAxis(3, to: width)
        return try wide.slerpAxis(2, to: height)
    }

    /// One bislerp pass along axis 2 (rows) or 3 (columns).
    private func slerpAxis(_ axis: Int, to length: Int) throws -> Tensor {
        let (n, c, h, w) = (dim(0), dim(1), dim(2), dim(3))
        let old = dim(axis)
        let (ratios, lower, upper) = try Self.bilinearData(old: old, new: length)
        let (outH, outW) = axis == 3 ? (h, length) : (length, w)
        return withUnsafeBufferPointer { src in
            Tensor(shape: [n, c, outH, outW]) { out in
                var b1 = [Float](repeating: 0, count: c), b2 = b1, result = b1
                for image in 0..<n {
                    for y in 0..<outH {
                        for x in 0..<outW {
                            let t = axis == 3 ? x : y
                            let (y1, x1) = axis == 3 ? (y, lower[t]) : (lower[t], x)
                            let (y2, x2) = axis == 3 ? (y, upper[t]) : (upper[t], x)
                            for ch in 0..<c {
                                b1[ch] = src[((image * c + ch) * h + y1) * w + x1]
                                b2[ch] = src[((image * c + ch) * h + y2) * w + x2]
                            }
                            Self.slerp(b1, b2, ratios[t], into: &result)
                            for ch in 0..<c { out[((image * c + ch) * outH + y) * outW + x] = result[ch] }
                        }
                    }
                }
            }
        }
    }

    /// `generate_bilinear_data`: bilinear resampling (PyTorch's, half-pixel centres) of the
    /// coordinates 0..<old gives the lower neighbours (truncated) and the ratios (fractional
    /// parts); of 1...old with the last one lowered by 1, the upper neighbours.
    private static func bilinearData(old: Int, new: Int) throws -> (ratios: [Float], lower: [Int], upper: [Int]) {
        let coordinates = try Tensor(shape: [1, 1, 1, old], scalars: (0..<old).map(Float.init))
        let positions = try coordinates.resized(height: 1, width: new, mode: .bilinear).scalars
        var next = (1...old).map(Float.init)
        next[old - 1] -= 1
        let upper = try Tensor(shape: [1, 1, 1, old], scalars: next).resized(height: 1, width: new, mode: .bilinear)
        return (positions.map { $0 - $0.rounded(.down) }, positions.map { Int($0) }, upper.scalars.map { Int($0) })
    }

    /// ComfyUI's `slerp` for one pair of C-vectors and ratio `r`, with its edge cases: a zero
    /// vector has a zero direction, nearly equal directions keep `b1` as it is, nearly opposite
    /// ones are blended linearly.
    private static func slerp(_ b1: [Float], _ b2: [Float], _ r: Float, into result: inout [Float]) {
        let c = b1.count
        var n1: Float = 0, n2: Float = 0
        for i in 0..<c {
            n1 += b1[i] * b1[i]
            n2 += b2[i] * b2[i]
        }
        (n1, n2) = (n1.squareRoot(), n2.squareRoot())
        var dot: Float = 0
        for i in 0..<c { dot += (n1 == 0 ? 0 : b1[i] / n1) * (n2 == 0 ? 0 : b2[i] / n2) }
        // torch compares the float32 `dot` with the Python constants rounded to float32.
        if dot > Float(1 - 1e-5) {
            for i in 0..<c { result[i] = b1[i] }
            return
        }
        if dot < Float(1e-5 - 1) {
            for i in 0..<c { result[i] = b1[i] * (1 - r) + b2[i] * r }
            return
        }
        let omega = acos(dot), so = sin(omega)
        let w1 = sin((1 - r) * omega) / so, w2 = sin(r * omega) / so
        let length = n1 * (1 - r) + n2 * r
        for i in 0..<c {
            let d1 = n1 == 0 ? 0 : b1[i] / n1, d2 = n2 == 0 ? 0 : b2[i] / n2
            result[i] = (w1 * d1 + w2 * d2) * length
        }
    }
}
