/// Scaled dot-product attention, computed in tiles of query rows.
///
/// Each task takes one (batch, head, tile of query rows), forms its score block
/// `S = Q_tile · Kᵀ` (about 1 MB, so it stays in cache), exponentiates it in place and
/// multiplies by V; the softmax division is applied to the `[tile, dv]` output rather than to
/// the scores. Memory stays O(tokens × tile), never O(tokens²).
/// Inputs stay in the `[B, tokens, heads·dim]` layout that the projections produce: heads are
/// addressed through GEMM leading dimensions, so no permute copies are made.
extension Tensor {
    /// `softmax(scale · Q Kᵀ [+ causal mask]) V` per head, as `F.scaled_dot_product_attention`
    /// on `[B, heads, N, d]` views of these tensors.
    /// - Parameters:
    ///   - key: `[B, Nk, heads·d]`; `value`: `[B, Nk, heads·dv]`; `self` (the query): `[B, Nq, heads·d]`.
    ///   - causal: mask key positions after the query position (top-left aligned, as `is_causal=True`).
    /// - Returns: `[B, Nq, heads·dv]`.
    public func attention(key: Tensor, value: Tensor, heads: Int, causal: Bool = false,
                          scale: Float? = nil) throws -> Tensor {
        try requireShape(rank == 3 && key.rank == 3 && value.rank == 3,
                         "attention needs [B, tokens, channels] tensors, got \(shape), \(key.shape), \(value.shape)")
        let (batch, nq, qWidth) = (shape[0], shape[1], shape[2])
        let (nk, vWidth) = (key.shape[1], value.shape[2])
        try requireShape(key.shape[0] == batch && value.shape[0] == batch && value.shape[1] == nk,
                         "attention batch/token counts disagree: q \(shape), k \(key.shape), v \(value.shape)")
        try requireShape(key.shape[2] == qWidth, "attention query width \(qWidth) differs from key width \(key.shape[2])")
        try requireShape(heads > 0 && qWidth % heads == 0 && vWidth % heads == 0,
                         "attention widths \(qWidth), \(vWidth) do not split into \(heads) heads")
        let d = qWidth / heads, dv = vWidth / heads
        let softmaxScale = scale ?? 1 / Float(d).squareRoot()
        let tile = max(16, min(nq, 262_144 / max(1, nk)))
        let tilesPerHead = (nq + tile - 1) / tile

        var result = Tensor(shape: [batch, nq, vWidth])
        withUnsafeBufferPointer { q in
            key.withUnsafeBufferPointer { k in
                value.withUnsafeBufferPointer { v in
                    result.withUnsafeMutableBufferPointer { o in
                        let (qBase, kBase, vBase, oBase) = (q.baseAddress!, k.baseAddress!, v.baseAddress!, o.baseAddress!)
                        parallelChunks(batch * heads * tilesPerHead) { tasks, _ in
                            let scores = UnsafeMutablePointer<Float>.allocate(capacity: tile * nk)
                            var sums = [Float](repeating: 0, count: tile)
                            defer { scores.deallocate() }
                            for task in tasks {
                                let b = task / (heads * tilesPerHead)
                                let head = (task / tilesPerHead) % heads
                                let row0 = (task % tilesPerHead) * tile, rows = min(tile, nq - row0)
                                // S[rows, Nk] = Q[row0..., head] · K[:, head]ᵀ
                                sgemmSerial(transA: false, transB: true, m: rows, n: nk, k: d,
                                            a: qBase + (b * nq + row0) * qWidth + head * d, lda: qWidth,
                                            b: kBase + b * nk * qWidth + head * d, ldb: qWidth,
                                            c: scores, ldc: nk)
                                for r in 0..<rows {
                                    let row = scores + r * nk
                                    if causal, row0 + r + 1 < nk {
                                        (row + row0 + r + 1).update(repeating: -.infinity, count: nk - row0 - r - 1)
                                    }
                                    sums[r] = exponentiateRow(row, nk, scale: softmaxScale)
                                }
                                // O[rows, head] = P[rows, Nk] · V[:, head]
                                sgemmSerial(transA: false, transB: false, m: rows, n: dv, k: nk,
                                            a: scores, lda: nk,
                                            b: vBase + b * nk * vWidth + head * dv, ldb: vWidth,
                                            c: oBase + (b * nq + row0) * vWidth + head * dv, ldc: vWidth)
                                for r in 0..<rows {
                                    let out = oBase + (b * nq + row0 + r) * vWidth + head * dv
                                    let inv = 1 / sums[r]
                                    for j in 0..<dv { out[j] *= inv }
                                }
                            }
                        }
                    }
                }
            }
        }
        return result
    }
}

