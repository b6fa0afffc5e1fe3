// The reshuffles and activations of super-resolution networks (ESRGAN, Real-ESRGAN's compact
// SRVGGNet): PyTorch's `pixel_shuffle` / `pixel_unshuffle`, integer-factor nearest upsampling
// (`F.interpolate(scale_factor=s, mode="nearest")`), spandrel's reflect-then-replicate padding on
// the bottom and right, ReLU, LeakyReLU and per-channel PReLU.

extension Tensor {
    /// `torch.pixel_shuffle`: `[n, c·r², h, w]` → `[n, c, h·r, w·r]`.
    public func pixelShuffled(_ r: Int) throws -> Tensor {
        try requireShape(rank == 4 && r >= 1 && shape[1] % (r * r) == 0, "pixel_shuffle(\(r)) of \(shape)")
        let (n, c, h, w) = (shape[0], shape[1] / (r * r), shape[2], shape[3])
        var result = Tensor(shape: [n, c, h * r, w * r])
        withUnsafeBufferPointer { src in
            result.withUnsafeMutableBufferPointer { out in
                let (s, o) = (src.baseAddress!, out.baseAddress!)
                // One task per output plane row block: input channel (c·r + i)·r + j feeds output
                // rows y·r + i, columns x·r + j.
                parallelFor(n * c * r) { task in
                    let (plane, i) = (task / r, task % r)
                    for j in 0..<r {
                        let input = s + (plane * r * r + i * r + j) * h * w
                        let output = o + plane * h * r * w * r
                        for y in 0..<h {
                            let row = output + (y * r + i) * w * r + j
                            let inRow = input + y * w
                            for x in 0..<w { row[x * r] = inRow[x] }
                        }
                    }
                }
            }
        }
        return result
    }

    /// `torch.pixel_unshuffle`: `[n, c, h·r, w·r]` → `[n, c·r², h, w]`.
    public func pixelUnshuffled(_ r: Int) throws -> Tensor {
        try requireShape(
            rank == 4 && r >= 1 && shape[2] % r == 0 && shape[3] % r == 0, "pixel_unshuffle(\(r)) of \(shape)")
        let (n, c, h, w) = (shape[0], shape[1], shape[2] / r, shape[3] / r)
        var result = Tensor(shape: [n, c * r * r, h, w])
        withUnsafeBufferPointer { src in
            result.withUnsafeMutableBufferPointer { out in
                let (s, o) = (src.baseAddress!, out.baseAddress!)
                parallelFor(n * c * r) { task in
                    let (plane, i) = (task / r, task % r)
                    for j in 0..<r {
                        let output = o + (plane * r * r + i * r + j) * h * w
                        let input = s + plane * h * r * w * r
                        for y in 0..<h {
                            let row = input + (y * r + i) * w * r + j
                            let outRow = output + y * w
                            for x in 0..<w { outRow[x] = row[x * r] }
                        }
                    }
                }
            }
        }
        return result
    }

    /// `F.interpolate(x, scale_factor=factor, mode="nearest")` for an integer factor: each pixel
    /// repeated `factor` times along both axes (source index `floor(dst / factor)`, exact).
    public func upsampledNearest(_ factor: Int) throws -> Tensor {
        try requireShape(rank == 4 && factor >= 1, "nearest upsample ×\(factor) of \(shape)")
        let (planes, h, w) = (shape[0] * shape[1], shape[2], shape[3])
        var result = Tensor(shape: [shape[0], shape[1], h * factor, w * factor])
        withUnsafeBufferPointer { src in
            result.withUnsafeMutableBufferPointer { out in
                let (s, o) = (src.baseAddress!, out.baseAddress!)
                let wo = w * factor
                parallelFor(planes * h) { task in
                    let input = s + task * w
                    let first = o + task * factor * wo
                    for x in 0..<w { (first + x * factor).update(repeating: input[x], count: factor) }
                    for copy in 1..<factor { (first + copy * wo).update(from: first, count: wo) }
                }
            }
        }
        return result
    }

    /// Padding on the bottom and right as spandrel's `pad_tensor` does it: mirrored without
    /// repeating the edge (`F.pad(x, (0, right, 0, bottom), "reflect")`) for up to `size - 1`
    /// pixels, the last row or column of that repeated beyond (`"replicate"`). Within `size - 1`
    /// this is PyTorch's reflect padding exactly.
    public func reflectPadded(bottom: Int, right: Int) throws -> Tensor {
        try requireShape(rank == 4 && bottom >= 0 && right >= 0, "reflect pad (\(bottom), \(right)) of \(shape)")
        let (planes, h, w) = (shape[0] * shape[1], shape[2], shape[3])
        let (ho, wo) = (h + bottom, w + right)
        // Source index along an axis of `size` padded by `pad`.
        func source(_ i: Int, size: Int, pad: Int) -> Int {
            let reflected = min(pad, size - 1)
            if i < size { return i }
            if i < size + reflected { return 2 * (size - 1) - i }
            return size - 1 - reflected
        }
        let columns = (0..<wo).map { source($0, size: w, pad: right) }
        var result = Tensor(shape: [shape[0], shape[1], ho, wo])
        withUnsafeBufferPointer { src in
            result.withUnsafeMutableBufferPointer { out in
                for p in 0..<planes {
                    for y in 0..<ho {
                        let input = src.baseAddress! + (p * h + source(y, size: h, pad: bottom)) * w
                        let output = out.baseAddress! + (p * ho + y) * wo
                        for x in 0..<wo { output[x] = input[columns[x]] }
                    }
                }
            }
        }
        return result
    }

    /// `nn.LeakyReLU(slope)`.
    public func leakyReLU(slope: Float) -> Tensor {
        let s = Vec8(repeating: slope)
        return map { x in x.replacing(with: x * s, where: x .< 0) }
    }

    /// `nn.ReLU`.
    public func relu() -> Tensor { map { vmax($0, Vec8(repeating: 0)) } }

    /// `nn.PReLU(num_parameters=c)` on NCHW: channel `k`'s negative values scaled by `weight[k]`
    /// (a single weight applies to every channel).
    public func prelu(weight: Tensor) throws -> Tensor {
        try requireShape(
            rank >= 2 && (weight.count == 1 || weight.count == shape[1]),
            "PReLU weight \(weight.shape) for input \(shape)")
        let channels = shape[1]
        let spatial = count / max(1, shape[0] * channels)
        var result = self
        let slopes = weight.scalars
        result.withUnsafeMutableBufferPointer { out in
            let o = out.baseAddress!
            parallelFor(shape[0] * channels) { plane in
                let slope = slopes.count == 1 ? slopes[0] : slopes[plane % channels]
                let p = o + plane * spatial
                for i in 0..<spatial where p[i] < 0 { p[i] *= slope }
            }
        }
        return result
    }
}
