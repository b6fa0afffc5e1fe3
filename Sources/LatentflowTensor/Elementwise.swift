/// Elementwise arithmetic with NumPy/PyTorch broadcasting, and the activation functions.
public enum BinaryOp: Sendable {
    case add, subtract, multiply, divide

    @inline(__always)
    func apply(_ a: Vec8, _ b: Vec8) -> Vec8 {
        switch self {
        case .add: return a + b
        case .subtract: return a - b
        case .multiply: return a * b
        case .divide: return a / b
        }
    }
}

/// The broadcast shape of two shapes, or nil when they are incompatible.
public func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let rank = max(a.count, b.count)
    let pa = Array(repeating: 1, count: rank - a.count) + a
    let pb = Array(repeating: 1, count: rank - b.count) + b
    var result: [Int] = []
    for (x, y) in zip(pa, pb) {
        if x == y || y == 1 { result.append(x) } else if x == 1 { result.append(y) } else { return nil }
    }
    return result
}

/// An operand's strides against the broadcast shape (0 along broadcast dimensions).
private func broadcastStrides(_ shape: [Int], to outShape: [Int]) -> [Int] {
    let padded = Array(repeating: 1, count: outShape.count - shape.count) + shape
    var strides = [Int](repeating: 0, count: padded.count)
    var step = 1
    for i in stride(from: padded.count - 1, through: 0, by: -1) {
        strides[i] = padded[i] == 1 ? 0 : step
        step *= padded[i]
    }
    return strides
}

extension Tensor {
    /// `self op other` with broadcasting.
    public func elementwise(_ op: BinaryOp, _ other: Tensor) throws -> Tensor {
        guard let outShape = broadcastShape(shape, other.shape) else {
            throw TensorError.shapeMismatch("cannot broadcast \(shape) with \(other.shape)")
        }
        var result = Tensor(shape: outShape)
        if result.count == 0 { return result }
        // Merge adjacent dimensions that both operands traverse the same way, so the inner
        // loop runs over the longest possible span (e.g. [N,C,H,W] + [1,C,1,1] -> runs of H·W).
        var dims: [(size: Int, sa: Int, sb: Int)] = []
        let sa = broadcastStrides(shape, to: outShape), sb = broadcastStrides(other.shape, to: outShape)
        for i in 0..<outShape.count where outShape[i] != 1 {
            if let last = dims.last, last.sa == sa[i] * outShape[i], last.sb == sb[i] * outShape[i] {
                dims[dims.count - 1] = (last.size * outShape[i], sa[i], sb[i])
            } else {
                dims.append((outShape[i], sa[i], sb[i]))
            }
        }
        if dims.isEmpty { dims = [(1, 0, 0)] }
        let inner = dims.removeLast()
        let outerCount = dims.map(\.size).reduce(1, *)
        let parallel = result.count >= 1 << 16
        withUnsafeBufferPointer { a in
            other.withUnsafeBufferPointer { b in
                result.withUnsafeMutableBufferPointer { out in
                    let pa = a.baseAddress!, pb = b.baseAddress!, po = out.baseAddress!
                    let body = { (outer: Int) in
                        var offA = 0, offB = 0, rest = outer
                        for d in dims.reversed() {
                            let i = rest % d.size
                            rest /= d.size
                            offA += i * d.sa
                            offB += i * d.sb
                        }
                        binaryRun(op, pa + offA, inner.sa, pb + offB, inner.sb, po + outer * inner.size, inner.size)
                    }
                    if parallel { parallelFor(outerCount, body) } else { for o in 0..<outerCount { body(o) } }
                }
            }
        }
        return result
    }

    public func adding(_ other: Tensor) throws -> Tensor { try elementwise(.add, other) }
    public func subtracting(_ other: Tensor) throws -> Tensor { try elementwise(.subtract, other) }
    public func multiplying(_ other: Tensor) throws -> Tensor { try elementwise(.multiply, other) }
    public func dividing(_ other: Tensor) throws -> Tensor { try elementwise(.divide, other) }

    /// `self * scale + offset`, elementwise.
    public func scaled(by scale: Float, adding offset: Float = 0) -> Tensor {
        map { $0 * scale + offset }
    }

    public func clamped(min lower: Float, max upper: Float) -> Tensor {
        map { vmin(vmax($0, Vec8(repeating: lower)), Vec8(repeating: upper)) }
    }

    /// SiLU (swish): x·sigmoid(x).
    public func silu() -> Tensor { map { $0 * vsigmoid($0) } }

    /// GELU with the exact erf form, PyTorch's default.
    public func gelu() -> Tensor {
        map { x in 0.5 * x * (1 + verf(x * 0.707_106_781_186_547_5)) }
    }

    /// OpenAI CLIP's quick GELU: x·sigmoid(1.702·x).
    public func quickGELU() -> Tensor { map { $0 * vsigmoid(1.702 * $0) } }

    public func sigmoid() -> Tensor { map { vsigmoid($0) } }

    /// Applies a scalar function to every element (for the odd op without a vector kernel).
    public func mapScalars(_ transform: (Float) -> Float) -> Tensor {
        var result = self
        result.withUnsafeMutableBufferPointer { buffer in
            for i in buffer.indices { buffer[i] = transform(buffer[i]) }
        }
        return result
    }

    /// Applies a vector function to every element, in parallel for large tensors.
    @inline(__always)
    func map(_ op: (Vec8) -> Vec8) -> Tensor {
        var result = self
        let n = count
        result.withUnsafeMutableBufferPointer { out in
            let p = out.baseAddress!
            let chunk = 1 << 15
            if n >= 1 << 17 {
                parallelFor((n + chunk - 1) / chunk) { c in
                    let start = c * chunk
                    mapVectors(p + start, p + start, min(chunk, n - start), op)
                }
            } else {
                mapVectors(p, p, n, op)
            }
        }
        return result
    }
}

/// One contiguous run of a broadcast binary op; a stride of 0 repeats that operand's element.
@inline(__always)
private func binaryRun(
    _ op: BinaryOp, _ a: UnsafePointer<Float>, _ sa: Int,
    _ b: UnsafePointer<Float>, _ sb: Int,
    _ out: UnsafeMutablePointer<Float>, _ n: Int
) {
    switch (sa, sb) {
    case (1, 1):
        var i = 0
        while i + 8 <= n {
            store8(op.apply(load8(a + i), load8(b + i)), out + i)
            i += 8
        }
        if i < n { storePartial(op.apply(loadPartial(a + i, n - i), loadPartial(b + i, n - i)), out + i, n - i) }
    case (1, 0):
        let vb = Vec8(repeating: b[0])
        var i = 0
        while i + 8 <= n {
            store8(op.apply(load8(a + i), vb), out + i)
            i += 8
        }
        if i < n { storePartial(op.apply(loadPartial(a + i, n - i), vb), out + i, n - i) }
    case (0, 1):
        let va = Vec8(repeating: a[0])
        var i = 0
        while i + 8 <= n {
            store8(op.apply(va, load8(b + i)), out + i)
            i += 8
        }
        if i < n { storePartial(op.apply(va, loadPartial(b + i, n - i)), out + i, n - i) }
    default:
        for i in 0..<n {
            out[i] = op.apply(Vec8(repeating: a[i * sa]), Vec8(repeating: b[i * sb]))[0]
        }
    }
}
