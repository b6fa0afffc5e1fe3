import LatentflowTensorAVX512

/// Scaled dot-product attention, computed in tiles of query rows.
///
/// Kᵀ is packed once per head; then each task takes one (batch, head, tile of 64 query rows)
/// and walks the keys in blocks of 128 with an online softmax (`AttentionTileWorkspace`); the division by the row sums is
/// applied to the `[tile, dv]` output rather than to the scores. Memory stays
/// O(tile × key block) per core, never O(tokens²).
/// Inputs stay in the `[B, tokens, heads·dim]` layout that the projections produce: heads are
/// addressed through GEMM leading dimensions, so no permute copies are made.
extension Tensor {
    /// `softmax(scale · Q Kᵀ [+ causal mask]) V` per head, as `F.scaled_dot_product_attention`
    /// on `[B, heads, N, d]` views of these tensors.
    /// - Parameters:
    ///   - key: `[B, Nk, heads·d]`; `value`: `[B, Nk, heads·dv]`; `self` (the query): `[B, Nq, heads·d]`.
    ///   - causal: mask key positions after the query position (top-left aligned, as `is_causal=True`).
    /// - Returns: `[B, Nq, heads·dv]`.
    public func attention(
        key: Tensor, value: Tensor, heads: Int, causal: Bool = false,
        scale: Float? = nil
    ) throws -> Tensor {
        try requireShape(
            rank == 3 && key.rank == 3 && value.rank == 3,
            "attention needs [B, tokens, channels] tensors, got \(shape), \(key.shape), \(value.shape)")
        let (batch, nq, qWidth) = (shape[0], shape[1], shape[2])
        let (nk, vWidth) = (key.shape[1], value.shape[2])
        try requireShape(
            key.shape[0] == batch && value.shape[0] == batch && value.shape[1] == nk,
            "attention batch/token counts disagree: q \(shape), k \(key.shape), v \(value.shape)")
        try requireShape(
            key.shape[2] == qWidth, "attention query width \(qWidth) differs from key width \(key.shape[2])")
        try requireShape(
            heads > 0 && qWidth % heads == 0 && vWidth % heads == 0,
            "attention widths \(qWidth), \(vWidth) do not split into \(heads) heads")
        let d = qWidth / heads, dv = vWidth / heads
        let softmaxScale = scale ?? 1 / Float(d).squareRoot()
        var result = Tensor(shape: [batch, nq, vWidth])
        let dims = AttentionDimensions(
            batch: batch, heads: heads, nq: nq, nk: nk, d: d, dv: dv, qWidth: qWidth, vWidth: vWidth,
            scale: softmaxScale, causal: causal)
        withUnsafeBufferPointer { q in
            key.withUnsafeBufferPointer { k in
                value.withUnsafeBufferPointer { v in
                    result.withUnsafeMutableBufferPointer { o in
                        let (qBase, kBase, vBase, oBase) = (
                            q.baseAddress!, k.baseAddress!, v.baseAddress!, o.baseAddress!
                        )
                        if AttentionSettings.runsAVX512 {
                            attend(AttentionTile16.self, dims, q: qBase, k: kBase, v: vBase, out: oBase)
                        } else {
                            attend(AttentionTileWorkspace.self, dims, q: qBase, k: kBase, v: vBase, out: oBase)
                        }
                    }
                }
            }
        }
        return result
    }
}

/// The shapes of one `attention` call.
struct AttentionDimensions {
    let batch: Int, heads: Int, nq: Int, nk: Int, d: Int, dv: Int, qWidth: Int, vWidth: Int
    let scale: Float, causal: Bool
}

/// Packs Kᵀ and V per head, then runs the query tiles on `Tiles`' kernels.
private func attend<Tiles: AttentionTiles>(
    _: Tiles.Type, _ s: AttentionDimensions, q qBase: UnsafePointer<Float>, k kBase: UnsafePointer<Float>,
    v vBase: UnsafePointer<Float>, out oBase: UnsafeMutablePointer<Float>
) {
    let (batch, heads, nq, nk, d, dv, qWidth, vWidth) = (s.batch, s.heads, s.nq, s.nk, s.d, s.dv, s.qWidth, s.vWidth)
    let tile = min(nq, 64)
    let tilesPerHead = (nq + tile - 1) / tile
    let packedPerHead = Tiles.packedKeysCount(keys: nk, d: d)
    let keysT = UnsafeMutablePointer<Float>.allocate(capacity: batch * heads * packedPerHead)
    // V of each head contiguous ([nk, dv]): the output kernel streams its rows.
    let values = UnsafeMutablePointer<Float>.allocate(capacity: batch * heads * nk * dv)
    defer {
        keysT.deallocate()
        values.deallocate()
    }
    parallelFor(batch * heads) { bh in
        Tiles.packKeys(
            kBase + (bh / heads) * nk * qWidth + (bh % heads) * d, ldk: qWidth,
            keys: nk, d: d, into: keysT + bh * packedPerHead)
        let source = vBase + (bh / heads) * nk * vWidth + (bh % heads) * dv,
            target = values + bh * nk * dv
        for j in 0..<nk { (target + j * dv).update(from: source + j * vWidth, count: dv) }
    }
    parallelChunks(batch * heads * tilesPerHead, chunksPerThread: 16) { tasks, _ in
        let workspace = Tiles(d: d, dv: dv, rows: tile)
        defer { workspace.deallocate() }
        for task in tasks {
            let b = task / (heads * tilesPerHead)
            let head = (task / tilesPerHead) % heads
            let row0 = (task % tilesPerHead) * tile, rows = min(tile, nq - row0)
            workspace.attend(
                q: qBase + (b * nq + row0) * qWidth + head * d, ldq: qWidth, rows: rows,
                firstRow: row0,
                keysT: keysT + (b * heads + head) * packedPerHead,
                v: values + (b * heads + head) * nk * dv, ldv: dv, keys: nk,
                scale: s.scale, causal: s.causal,
                out: oBase + (b * nq + row0) * vWidth + head * dv, ldo: vWidth)
        }
    }
}

/// The tile kernels `attention` runs: `AttentionTileWorkspace` (8 lanes, AVX2) or
/// `AttentionTile16` (16 lanes, AVX-512), the same algorithm.
protocol AttentionTiles {
    init(d: Int, dv: Int, rows: Int)
    func deallocate()
    static func packedKeysCount(keys: Int, d: Int) -> Int
    static func packKeys(
        _ k: UnsafePointer<Float>, ldk: Int, keys: Int, d: Int, into target: UnsafeMutablePointer<Float>)
    func attend(
        q: UnsafePointer<Float>, ldq: Int, rows: Int, firstRow: Int,
        keysT: UnsafePointer<Float>, v: UnsafePointer<Float>, ldv: Int, keys: Int,
        scale: Float, causal: Bool, out: UnsafeMutablePointer<Float>, ldo: Int)
}

extension AttentionTileWorkspace: AttentionTiles {}
extension AttentionTile16: AttentionTiles {}

/// Which lane width attention's kernels use: by default AVX-512's where the CPU has it; tests and
/// benchmarks pin AVX2's to compare. AVX-512 is never chosen on a CPU without it.
public enum AttentionKernelWidth: String, Sendable, CaseIterable {
    case automatic, avx2, avx512
}

public enum AttentionSettings {
    nonisolated(unsafe) public static var width: AttentionKernelWidth = .automatic

    /// Whether this CPU has the AVX-512 kernels' instructions (F, BW, DQ, VL).
    public static var avx512Available: Bool { BLASCore.cpuHasAVX512 }

    static var runsAVX512: Bool { width != .avx2 && avx512Available }
}
