import Foundation

/// Whole-latent transforms and blends for `[B, C, H, W]` tensors, as ComfyUI's latent nodes do
/// them with torch (flip, rot90, sliced assignment, channel norms).
extension Tensor {
    /// The tensor reversed along `axis` (`torch.flip`).
    public func flipped(axis: Int) -> Tensor {
        let ax = normalizedAxis(axis)
        let outer = shape[..<ax].reduce(1, *), size = shape[ax], inner = shape[(ax + 1)...].reduce(1, *)
        return withUnsafeBufferPointer { src in
            Tensor(shape: shape) { out in
                for o in 0..<outer {
                    for i in 0..<size {
                        let from = (o * size + i) * inner, to = (o * size + size - 1 - i) * inner
                        (out.baseAddress! + to).update(from: src.baseAddress! + from, count: inner)
                    }
                }
            }
        }
    }

    /// `torch.rot90(x, k, dims=[3, 2])` on `[B, C, H, W]`: a clockwise quarter turn per `k`.
    public func rotated90(_ k: Int) throws -> Tensor {
        try requireShape(rank == 4, "rot90 of \(shape): needs [B, C, H, W]")
        switch ((k % 4) + 4) % 4 {
        case 1: return try flipped(axis: 2).permuted([0, 1, 3, 2])
        case 2: return flipped(axis: 3).flipped(axis: 2)
        case 3: return try flipped(axis: 3).permuted([0, 1, 3, 2])
        default: return self
        }
    }

    /// The first `count` batch entries, repeating the batch when it is shorter
    /// (`comfy.utils.repeat_to_batch_size`).
    public func repeatedToBatch(_ count: Int) throws -> Tensor {
        let n = dim(0)
        if n == count { return self }
        if n > count { return try slice(axis: 0, start: 0, length: count) }
        let times = (count + n - 1) / n
        return try Tensor.concat(Array(repeating: self, count: times), axis: 0).slice(axis: 0, start: 0, length: count)
    }

    /// `self` with `source` pasted at latent pixel (`x`, `y`), clipped at the far edges; a
    /// non-zero `feather` fades the pasted edges that lie inside `self` over `feather` pixels
    /// (ComfyUI `LatentComposite.composite`, after its `// 8`). A batch-1 source is broadcast.
    public func composited(_ source: Tensor, x: Int, y: Int, feather: Int) throws -> Tensor {
        try requireShape(rank == 4 && source.rank == 4, "composite of \(source.shape) onto \(shape)")
        let (n, c, h, w) = (dim(0), dim(1), dim(2), dim(3))
        try requireShape(
            source.dim(1) == c && (source.dim(0) == n || source.dim(0) == 1),
            "composite of \(source.shape) onto \(shape)")
        guard x < w, y < h else { return self }
        let ph = min(source.dim(2), h - y), pw = min(source.dim(3), w - x)
        var mask = [Float](repeating: 1, count: ph * pw)
        if feather > 0 {
            func scaleRow(_ r: Int, _ f: Float) { for j in 0..<pw { mask[r * pw + j] *= f } }
            func scaleColumn(_ col: Int, _ f: Float) { for i in 0..<ph { mask[i * pw + col] *= f } }
            for t in 0..<feather {
                let factor = Float((1.0 / Double(feather)) * Double(t + 1))
                if y != 0, t < ph { scaleRow(t, factor) }
                if y + ph < h, let r = lastButOne(ph, t) { scaleRow(r, factor) }
                if x != 0, t < pw { scaleColumn(t, factor) }
                if x + pw < w, let col = lastButOne(pw, t) { scaleColumn(col, factor) }
            }
        }
        var result = self
        let (sh, sw, sn) = (source.dim(2), source.dim(3), source.dim(0))
        result.withUnsafeMutableBufferPointer { out in
            source.withUnsafeBufferPointer { src in
                for b in 0..<n {
                    for ch in 0..<c {
                        let srcPlane = ((sn == 1 ? 0 : b) * c + ch) * sh * sw, dstPlane = (b * c + ch) * h * w
                        for i in 0..<ph {
                            for j in 0..<pw {
                                let to = dstPlane + (y + i) * w + x + j, value = src[srcPlane + i * sw + j]
                                if feather == 0 {
                                    out[to] = value
                                } else {
                                    let m = mask[i * pw + j]
                                    out[to] = value * m + out[to] * (1 - m)
                                }
                            }
                        }
                    }
                }
            }
        }
        return result
    }

    /// The row Python's `[size - 1 - t : size - t]` selects (negative bounds count from the end).
    private func lastButOne(_ size: Int, _ t: Int) -> Int? {
        func bound(_ i: Int) -> Int { i < 0 ? max(0, i + size) : min(i, size) }
        let (start, end) = (bound(size - 1 - t), bound(size - t))
        return end > start ? start : nil
    }

    /// The Euclidean norm over axis 1 (`torch.linalg.vector_norm(x, dim=1)`): `[B, C, H, W]` → `[B, H, W]`.
    public func channelNorm() throws -> Tensor {
        try requireShape(rank == 4, "channel norm of \(shape): needs [B, C, H, W]")
        let (n, c, plane) = (dim(0), dim(1), dim(2) * dim(3))
        return withUnsafeBufferPointer { src in
            Tensor(shape: [n, dim(2), dim(3)]) { out in
                for b in 0..<n {
                    for p in 0..<plane {
                        var sum: Float = 0
                        for ch in 0..<c {
                            let v = src[(b * c + ch) * plane + p]
                            sum += v * v
                        }
                        out[b * plane + p] = sum.squareRoot()
                    }
                }
            }
        }
    }

    /// NaN → 0 and ±∞ → the largest finite values (`torch.nan_to_num`).
    public func nanToNum() -> Tensor {
        mapScalars { v in
            if v.isNaN { return 0 }
            if v.isInfinite { return v > 0 ? .greatestFiniteMagnitude : -.greatestFiniteMagnitude }
            return v
        }
    }

    /// ComfyUI `LatentInterpolate`: interpolates channel directions and channel magnitudes
    /// separately. As there, the `[B, H, W]` norms broadcast against `[B, C, H, W]` from the
    /// right (they line up with the channel axis), so the batch must be 1 or equal the channels.
    public func magnitudeInterpolated(_ other: Tensor, ratio: Double) throws -> Tensor {
        func asBroadcast(_ norm: Tensor) throws -> Tensor { try norm.reshaped([1] + norm.shape) }
        let m1 = try channelNorm(), m2 = try other.channelNorm()
        let s1 = try dividing(asBroadcast(m1)).nanToNum(), s2 = try other.dividing(asBroadcast(m2)).nanToNum()
        let t = try s1.scaled(by: Float(ratio)).adding(s2.scaled(by: Float(1.0 - ratio)))
        let st = try t.dividing(asBroadcast(t.channelNorm())).nanToNum()
        let magnitude = try m1.scaled(by: Float(ratio)).adding(m2.scaled(by: Float(1.0 - ratio)))
        return try st.multiplying(asBroadcast(magnitude))
    }

    /// ComfyUI `ConditioningAverage` on `[1, T, D]` embeddings: `self · weight + other · (1 − weight)`,
    /// `other` cut or zero-padded to `self`'s token count.
    public func weightedAverage(withTokensOf other: Tensor, weight: Double) throws -> Tensor {
        try requireShape(
            rank == 3 && other.rank == 3 && other.dim(2) == dim(2),
            "average of embeddings \(shape) and \(other.shape)")
        let tokens = dim(1)
        var from = try other.slice(axis: 1, start: 0, length: min(tokens, other.dim(1)))
        if from.dim(1) < tokens {
            from = try Tensor.concat([from, Tensor(shape: [from.dim(0), tokens - from.dim(1), dim(2)])], axis: 1)
        }
        return try scaled(by: Float(weight)).adding(from.scaled(by: Float(1.0 - weight)))
    }
}
