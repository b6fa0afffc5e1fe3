/// Concatenation, splitting, slicing and permutation; every result is a new contiguous tensor.
extension Tensor {
    /// Joins tensors along `axis`; all other dimensions must agree.
    public static func concat(_ tensors: [Tensor], axis: Int) throws -> Tensor {
        guard let first = tensors.first else { throw TensorError.invalidArgument("concat of no tensors") }
        let ax = first.normalizedAxis(axis)
        try requireShape(ax >= 0 && ax < first.rank, "concat axis \(axis) out of range for \(first.shape)")
        for t in tensors {
            var a = t.shape, b = first.shape
            try requireShape(a.count == b.count, "concat of \(first.shape) and \(t.shape)")
            a[ax] = 0
            b[ax] = 0
            try requireShape(a == b, "concat along axis \(ax) of \(first.shape) and \(t.shape)")
        }
        var outShape = first.shape
        outShape[ax] = tensors.map { $0.shape[ax] }.reduce(0, +)
        let outer = first.shape[..<ax].reduce(1, *)
        let inner = first.shape[(ax + 1)...].reduce(1, *)
        var result = Tensor(shape: outShape)
        let outRow = outShape[ax] * inner
        result.withUnsafeMutableBufferPointer { out in
            var offset = 0
            for t in tensors {
                let span = t.shape[ax] * inner
                t.withUnsafeBufferPointer { src in
                    for o in 0..<outer {
                        (out.baseAddress! + o * outRow + offset).update(from: src.baseAddress! + o * span, count: span)
                    }
                }
                offset += span
            }
        }
        return result
    }

    /// The sub-tensor `start..<start+length` along `axis`.
    public func slice(axis: Int, start: Int, length: Int) throws -> Tensor {
        let ax = normalizedAxis(axis)
        try requireShape(ax >= 0 && ax < rank, "slice axis \(axis) out of range for \(shape)")
        try requireShape(
            start >= 0 && length >= 0 && start + length <= shape[ax],
            "slice \(start)..<\(start + length) out of range for axis \(ax) of \(shape)")
        var outShape = shape
        outShape[ax] = length
        let outer = shape[..<ax].reduce(1, *), inner = shape[(ax + 1)...].reduce(1, *)
        let span = length * inner, row = shape[ax] * inner
        return withUnsafeBufferPointer { src in
            Tensor(shape: outShape) { out in
                for o in 0..<outer {
                    (out.baseAddress! + o * span).update(from: src.baseAddress! + o * row + start * inner, count: span)
                }
            }
        }
    }

    /// Splits into `parts` equal pieces along `axis`, as `torch.chunk` with an even split.
    public func chunked(_ parts: Int, axis: Int) throws -> [Tensor] {
        let size = dim(axis)
        try requireShape(parts > 0 && size % parts == 0, "cannot split axis of size \(size) into \(parts) equal parts")
        return try (0..<parts).map { try slice(axis: axis, start: $0 * size / parts, length: size / parts) }
    }

    /// Reorders dimensions: result dimension i is input dimension `order[i]` (`torch.permute`).
    public func permuted(_ order: [Int]) throws -> Tensor {
        try requireShape(order.sorted() == Array(0..<rank), "permutation \(order) for rank \(rank)")
        let outShape = order.map { shape[$0] }
        var inStrides = [Int](repeating: 1, count: rank)
        for i in stride(from: rank - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * shape[i + 1] }
        let strides = order.map { inStrides[$0] }
        guard rank > 0, count > 0 else { return try reshaped(outShape) }
        let innerSize = outShape[rank - 1], innerStride = strides[rank - 1]
        let outerCount = count / innerSize
        return withUnsafeBufferPointer { src in
            Tensor(shape: outShape) { out in
                let s = src.baseAddress!, d = out.baseAddress!
                parallelFor(outerCount) { o in
                    var rest = o, offset = 0
                    for axis in stride(from: rank - 2, through: 0, by: -1) {
                        offset += (rest % outShape[axis]) * strides[axis]
                        rest /= outShape[axis]
                    }
                    let dst = d + o * innerSize
                    if innerStride == 1 {
                        dst.update(from: s + offset, count: innerSize)
                    } else {
                        for i in 0..<innerSize { dst[i] = s[offset + i * innerStride] }
                    }
                }
            }
        }
    }

    /// Zero padding of the last two dimensions, as `F.pad(x, (left, right, top, bottom))`.
    public func padded(_ padding: Padding2D, value: Float = 0) throws -> Tensor {
        try requireShape(rank >= 2, "pad needs at least 2 dimensions, got \(shape)")
        let h = dim(-2), w = dim(-1)
        let ho = h + padding.top + padding.bottom, wo = w + padding.left + padding.right
        var outShape = shape
        outShape[rank - 2] = ho
        outShape[rank - 1] = wo
        var result = Tensor(shape: outShape, repeating: value)
        let planes = count / max(1, h * w)
        withUnsafeBufferPointer { src in
            result.withUnsafeMutableBufferPointer { out in
                for p in 0..<planes {
                    for y in 0..<h {
                        (out.baseAddress! + (p * ho + y + padding.top) * wo + padding.left)
                            .update(from: src.baseAddress! + (p * h + y) * w, count: w)
                    }
                }
            }
        }
        return result
    }
}
