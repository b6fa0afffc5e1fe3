/// Group norm, layer norm and softmax, as PyTorch's `nn.GroupNorm`, `nn.LayerNorm` and `softmax`.
extension Tensor {
    /// Group normalization over `[N, C, ...]`: statistics per (sample, group of C/groups channels),
    /// then a per-channel affine. `fuseSiLU` applies SiLU to the result in the same pass, the
    /// GroupNorm→SiLU pair that opens every ResNet block.
    public func groupNorm(
        groups: Int, weight: Tensor?, bias: Tensor?, epsilon: Float = 1e-5,
        fuseSiLU: Bool = false
    ) throws -> Tensor {
        try requireShape(rank >= 2, "group norm needs [N, C, ...], got \(shape)")
        let n = dim(0), channels = dim(1)
        try requireShape(
            groups > 0 && channels % groups == 0, "\(channels) channels do not split into \(groups) groups")
        if let weight {
            try requireShape(weight.shape == [channels], "group norm weight \(weight.shape) for \(channels) channels")
        }
        if let bias {
            try requireShape(bias.shape == [channels], "group norm bias \(bias.shape) for \(channels) channels")
        }
        let spatial = count / max(1, n * channels)
        let perGroup = channels / groups
        var result = self
        let gamma = weight?.scalars, beta = bias?.scalars
        result.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            parallelFor(n * groups) { task in
                let group = task % groups
                let p = base + task * perGroup * spatial
                let (mean, invStd) = meanAndInverseStd(p, perGroup * spatial, epsilon)
                for c in 0..<perGroup {
                    let channel = group * perGroup + c
                    let scale = invStd * (gamma?[channel] ?? 1)
                    let shift = (beta?[channel] ?? 0) - mean * scale
                    let vs = Vec8(repeating: scale), vb = Vec8(repeating: shift)
                    if fuseSiLU {
                        mapVectors(p + c * spatial, p + c * spatial, spatial) { x in
                            let y = x * vs + vb
                            return y * vsigmoid(y)
                        }
                    } else {
                        mapVectors(p + c * spatial, p + c * spatial, spatial) { x in x * vs + vb }
                    }
                }
            }
        }
        return result
    }

    /// Layer normalization over the last dimension.
    public func layerNorm(weight: Tensor?, bias: Tensor?, epsilon: Float = 1e-5) throws -> Tensor {
        let width = dim(-1)
        if let weight {
            try requireShape(weight.shape == [width], "layer norm weight \(weight.shape) for width \(width)")
        }
        if let bias { try requireShape(bias.shape == [width], "layer norm bias \(bias.shape) for width \(width)") }
        var result = self
        let gamma = weight?.scalars ?? [Float](repeating: 1, count: width)
        let beta = bias?.scalars ?? [Float](repeating: 0, count: width)
        result.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            gamma.withUnsafeBufferPointer { g in
                beta.withUnsafeBufferPointer { b in
                    parallelFor(count / max(1, width)) { row in
                        let p = base + row * width
                        let (mean, invStd) = meanAndInverseStd(p, width, epsilon)
                        for i in 0..<width { p[i] = (p[i] - mean) * invStd * g[i] + b[i] }
                    }
                }
            }
        }
        return result
    }

    /// Softmax over the last dimension.
    public func softmax() -> Tensor {
        let width = dim(-1)
        var result = self
        result.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            parallelFor(count / max(1, width)) { row in softmaxRow(base + row * width, width, scale: 1) }
        }
        return result
    }
}

/// Mean and 1/sqrt(variance + eps) of a span, two-pass in float with vector accumulators
/// (the biased variance, as PyTorch's norms use).
@inline(__always)
func meanAndInverseStd(_ p: UnsafePointer<Float>, _ count: Int, _ epsilon: Float) -> (Float, Float) {
    let mean = vectorSum(p, count) / Float(count)
    let vm = Vec8(repeating: mean)
    var acc0 = Vec8(), acc1 = Vec8()
    var i = 0
    while i + 16 <= count {
        let d0 = load8(p + i) - vm, d1 = load8(p + i + 8) - vm
        acc0 = acc0.addingProduct(d0, d0)
        acc1 = acc1.addingProduct(d1, d1)
        i += 16
    }
    var squares = (acc0 + acc1).sum()
    while i < count {
        let d = p[i] - mean
        squares += d * d
        i += 1
    }
    let variance = squares / Float(count)
    return (mean, 1 / (variance + epsilon).squareRoot())
}

/// In-place softmax of `scale·x` over one row: max-subtracted for stability.
@inline(__always)
func softmaxRow(_ p: UnsafeMutablePointer<Float>, _ width: Int, scale: Float) {
    let sum = exponentiateRow(p, width, scale: scale)
    let inv = Vec8(repeating: 1 / sum)
    mapVectors(p, p, width) { $0 * inv }
}

/// Replaces a row by exp(scale·(x - max x)) and returns the sum of the new values: softmax
/// without its final division, for callers that can divide something smaller (attention
/// divides its output rows instead of the score rows).
@inline(__always)
func exponentiateRow(_ p: UnsafeMutablePointer<Float>, _ width: Int, scale: Float) -> Float {
    var m0 = Vec8(repeating: -.infinity), m1 = m0
    var i = 0
    while i + 16 <= width {
        m0 = vmax(m0, load8(p + i))
        m1 = vmax(m1, load8(p + i + 8))
        i += 16
    }
    var rowMax = vmax(m0, m1).max()
    while i < width {
        rowMax = max(rowMax, p[i])
        i += 1
    }
    let shift = Vec8(repeating: -rowMax * scale), vscale = Vec8(repeating: scale)
    var s0 = Vec8(), s1 = Vec8()
    i = 0
    while i + 16 <= width {
        let e0 = vexp(shift.addingProduct(load8(p + i), vscale))
        let e1 = vexp(shift.addingProduct(load8(p + i + 8), vscale))
        store8(e0, p + i)
        store8(e1, p + i + 8)
        s0 += e0
        s1 += e1
        i += 16
    }
    var sum = (s0 + s1).sum()
    while i < width {
        let e = vexp(Vec8(repeating: (p[i] - rowMax) * scale))[0]
        p[i] = e
        sum += e
        i += 1
    }
    return sum
}
