import Foundation

/// The inner loops of tiled attention: one task owns a tile of query rows of one head and walks
/// the keys in blocks, keeping a running row maximum and sum (online softmax), so the score block
/// `[rows, keyBlock]` and the key and value blocks stay in L1/L2.
///
/// Both products run in register-blocked kernels (Kᵀ packed once per head for the scores, V
/// read in place for the output) instead of OpenBLAS calls that re-pack every operand and
/// zero every output on each call: with K = 40 (SD1.5's head width) that overhead was as large
/// as the arithmetic.
struct AttentionTileWorkspace {
    /// 128 keys: a block of V (128 rows of one head) and of Kᵀ stay in L1 while every row of
    /// the tile passes over them.
    static let keyBlock = 128
    /// Query rows per score kernel call (its register block).
    static let groupRows = 6
    let d: Int, dv: Int, rows: Int
    /// The tile's query rows times scale·log2(e), in panels `[d, groupRows]` per row group: the
    /// scores come out in base 2, ready for `vexp2NonPositive`, and the score kernel reads each
    /// panel front to back.
    let queries: UnsafeMutablePointer<Float>
    /// Scores, then probabilities, `[groups · groupRows, keyBlock]`.
    let scores: UnsafeMutablePointer<Float>
    /// Per score row, the lane-wise maximum of its block's scores (one vector), kept by the
    /// score kernel so the softmax does not scan the row for it.
    let laneMax: UnsafeMutablePointer<Float>
    /// Unnormalized output rows `[rows, dv]`, running maxima and sums.
    let output: UnsafeMutablePointer<Float>
    let rowMax: UnsafeMutablePointer<Float>, rowSum: UnsafeMutablePointer<Float>

    init(d: Int, dv: Int, rows: Int) {
        (self.d, self.dv, self.rows) = (d, dv, rows)
        let groups = Self.groups(rows: rows), block = Self.keyBlock
        queries = .allocate(capacity: groups * Self.groupRows * d)
        scores = .allocate(capacity: groups * Self.groupRows * block)
        laneMax = .allocate(capacity: groups * Self.groupRows * 8)
        output = .allocate(capacity: rows * dv)
        rowMax = .allocate(capacity: rows)
        rowSum = .allocate(capacity: rows)
    }

    func deallocate() {
        for pointer in [queries, scores, laneMax, output, rowMax, rowSum] { pointer.deallocate() }
    }

    /// Kᵀ of one head in key blocks: block `i` is `[d, 16-padded block width]` at `i · d · keyBlock`,
    /// zero past the last key. Packed once per head and shared by all its query tiles.
    static func packKeys(
        _ k: UnsafePointer<Float>, ldk: Int, keys: Int, d: Int, into target: UnsafeMutablePointer<Float>
    ) {
        for key0 in stride(from: 0, to: keys, by: keyBlock) {
            let count = min(keyBlock, keys - key0), padded = (count + 15) / 16 * 16
            let blockTarget = target + key0 * d
            // Column by column: contiguous writes; the block's rows stay in L1.
            for c in 0..<d {
                let column = blockTarget + c * padded
                var from = k + key0 * ldk + c
                for j in 0..<count {
                    column[j] = from.pointee
                    from += ldk
                }
                if padded > count { (column + count).update(repeating: 0, count: padded - count) }
            }
        }
    }

    /// Row groups of `groupRows` covering `rows` rows.
    static func groups(rows: Int) -> Int { (rows + groupRows - 1) / groupRows }

    /// Floats `packKeys` writes for `keys` keys.
    static func packedKeysCount(keys: Int, d: Int) -> Int { (keys + keyBlock - 1) / keyBlock * keyBlock * d }

    /// `out[r] = softmax(scale · q[r] · Kᵀ) · V` for `rows` query rows (row `r` is query
    /// position `firstRow + r`, which the causal mask needs). Strided operands: row `i` of q,
    /// v, out starts at `base + i · ld`; `keysT` is the head's `packKeys` output.
    func attend(
        q: UnsafePointer<Float>, ldq: Int, rows: Int, firstRow: Int,
        keysT: UnsafePointer<Float>, v: UnsafePointer<Float>, ldv: Int, keys: Int,
        scale: Float, causal: Bool, out: UnsafeMutablePointer<Float>, ldo: Int
    ) {
        let block = Self.keyBlock
        let toBase2 = scale * 1.442_695_04
        // Panels of six rows, `[d, 6]` each; rows past `rows` stay zero (their scores are unused).
        let groups = Self.groups(rows: rows)
        queries.update(repeating: 0, count: groups * d * Self.groupRows)
        for r in 0..<rows {
            let panel = queries + (r / Self.groupRows) * d * Self.groupRows + r % Self.groupRows
            for e in 0..<d { panel[e * Self.groupRows] = q[r * ldq + e] * toBase2 }
        }
        output.update(repeating: 0, count: rows * dv)
        rowMax.update(repeating: -.infinity, count: rows)
        rowSum.update(repeating: 0, count: rows)
        let lastKey = causal ? min(keys, firstRow + rows) : keys
        var key0 = 0
        while key0 < lastKey {
            let n = min(block, lastKey - key0)
            let padded = (n + 15) / 16 * 16
            // Kᵀ rows are as wide as the whole block was packed (the causal limit may stop short).
            let ldkt = (min(block, keys - key0) + 15) / 16 * 16
            for group in 0..<groups {
                scoreGroup(group, keysT: keysT + key0 * d, ldkt: ldkt, columns: padded)
                // The group's softmax while its scores are still in L1.
                for r in (group * Self.groupRows)..<min(rows, (group + 1) * Self.groupRows) {
                    // Keys past this row's position are masked (top-left aligned, as is_causal).
                    let valid = causal ? min(n, max(0, firstRow + r + 1 - key0)) : n
                    softmaxUpdate(row: r, valid: valid, padded: padded)
                }
            }
            outputBlock(rows: rows, v: v + key0 * ldv, ldv: ldv, count: n)
            key0 += n
        }
        for r in 0..<rows {
            let inverse = 1 / rowSum[r]
            let source = output + r * dv, target = out + r * ldo
            for c in 0..<dv { target[c] = source[c] * inverse }
        }
    }

    /// `scores[r, j] = q[r] · Kᵀ[:, j]` for the group's rows and `columns` (a multiple of 16)
    /// keys, and each row's lane maxima.
    private func scoreGroup(_ group: Int, keysT: UnsafePointer<Float>, ldkt: Int, columns: Int) {
        let panel = UnsafePointer(queries) + group * d * Self.groupRows
        let target = scores + group * Self.groupRows * Self.keyBlock
        let maxima = laneMax + group * Self.groupRows * 8
        maxima.update(repeating: -.infinity, count: Self.groupRows * 8)
        for j in stride(from: 0, to: columns, by: 16) {
            scoreKernel6x16(panel: panel, keysT: keysT + j, ldkt: ldkt, scores: target + j, maxima: maxima)
        }
    }

    /// One 6x16 block of scores: twelve accumulators, per step two vectors of Kᵀ and six query
    /// values broadcast from the group's panel (contiguous, so the loop is two pointer bumps).
    @inline(__always)
    private func scoreKernel6x16(
        panel: UnsafePointer<Float>, keysT: UnsafePointer<Float>, ldkt: Int,
        scores s: UnsafeMutablePointer<Float>, maxima m: UnsafeMutablePointer<Float>
    ) {
        var a00 = Vec8(), a01 = Vec8(), a10 = Vec8(), a11 = Vec8(), a20 = Vec8(), a21 = Vec8()
        var a30 = Vec8(), a31 = Vec8(), a40 = Vec8(), a41 = Vec8(), a50 = Vec8(), a51 = Vec8()
        var kt = keysT, qp = panel
        for _ in 0..<d {
            let k0 = load8(kt), k1 = load8(kt + 8)
            var b = Vec8(repeating: qp[0])
            a00 = a00.addingProduct(b, k0)
            a01 = a01.addingProduct(b, k1)
            b = Vec8(repeating: qp[1])
            a10 = a10.addingProduct(b, k0)
            a11 = a11.addingProduct(b, k1)
            b = Vec8(repeating: qp[2])
            a20 = a20.addingProduct(b, k0)
            a21 = a21.addingProduct(b, k1)
            b = Vec8(repeating: qp[3])
            a30 = a30.addingProduct(b, k0)
            a31 = a31.addingProduct(b, k1)
            b = Vec8(repeating: qp[4])
            a40 = a40.addingProduct(b, k0)
            a41 = a41.addingProduct(b, k1)
            b = Vec8(repeating: qp[5])
            a50 = a50.addingProduct(b, k0)
            a51 = a51.addingProduct(b, k1)
            kt += ldkt
            qp += Self.groupRows
        }
        let ld = Self.keyBlock
        store8(a00, s)
        store8(a01, s + 8)
        store8(a10, s + ld)
        store8(a11, s + ld + 8)
        store8(a20, s + 2 * ld)
        store8(a21, s + 2 * ld + 8)
        store8(a30, s + 3 * ld)
        store8(a31, s + 3 * ld + 8)
        store8(a40, s + 4 * ld)
        store8(a41, s + 4 * ld + 8)
        store8(a50, s + 5 * ld)
        store8(a51, s + 5 * ld + 8)
        store8(vmax(load8(m), vmax(a00, a01)), m)
        store8(vmax(load8(m + 8), vmax(a10, a11)), m + 8)
        store8(vmax(load8(m + 16), vmax(a20, a21)), m + 16)
        store8(vmax(load8(m + 24), vmax(a30, a31)), m + 24)
        store8(vmax(load8(m + 32), vmax(a40, a41)), m + 32)
        store8(vmax(load8(m + 40), vmax(a50, a51)), m + 40)
    }

    /// Online softmax for one row of the block: exponentiates (base 2) its `valid` scores against
    /// the running maximum (zeros the rest up to `padded`), rescales the row's output and sum
    /// when the maximum grows.
    private func softmaxUpdate(row r: Int, valid: Int, padded: Int) {
        let p = scores + r * Self.keyBlock
        var blockMax = -Float.infinity
        if valid == padded {
            // Every column is a real key: the score kernel's lane maxima hold the row's maximum.
            blockMax = horizontalMax(load8(laneMax + r * 8))
        } else {
            // Padding columns (score 0) or masked keys: only the first `valid` count.
            var i = 0
            if valid >= 8 {
                var m = load8(p)
                i = 8
                while i + 8 <= valid {
                    m = vmax(m, load8(p + i))
                    i += 8
                }
                blockMax = horizontalMax(m)
            }
            while i < valid {
                blockMax = max(blockMax, p[i])
                i += 1
            }
        }
        let newMax = max(rowMax[r], blockMax)
        guard newMax > -.infinity else {
            (p).update(repeating: 0, count: padded)
            return
        }
        if newMax > rowMax[r] {
            let alpha = rowMax[r] == -.infinity ? 0 : exp2f(rowMax[r] - newMax)
            if alpha != 1 {
                rowSum[r] *= alpha
                let o = output + r * dv
                for c in 0..<dv { o[c] *= alpha }
            }
            rowMax[r] = newMax
        }
        let shift = Vec8(repeating: newMax)
        // Two vectors per step with separate sums, so consecutive exponentials can overlap.
        var sum0 = Vec8(), sum1 = Vec8()
        var i = 0
        while i &+ 16 <= valid {
            let e0 = vexp2NonPositive(load8(p + i) - shift), e1 = vexp2NonPositive(load8(p + i + 8) - shift)
            store8(e0, p + i)
            store8(e1, p + i + 8)
            sum0 += e0
            sum1 += e1
            i &+= 16
        }
        if i &+ 8 <= valid {
            let e = vexp2NonPositive(load8(p + i) - shift)
            store8(e, p + i)
            sum0 += e
            i &+= 8
        }
        var total = (sum0 + sum1).sum()
        while i < valid {
            let e = vexp2NonPositive(Vec8(repeating: p[i] - newMax))[0]
            p[i] = e
            total += e
            i += 1
        }
        if padded > valid { (p + valid).update(repeating: 0, count: padded - valid) }
        rowSum[r] += total
    }

    /// The largest lane, halving in registers: SIMD's own max() is an out-of-line generic call here.
    @inline(__always)
    private func horizontalMax(_ m: Vec8) -> Float {
        let half = m.lowHalf.replacing(with: m.highHalf, where: m.lowHalf .< m.highHalf)
        return max(max(half[0], half[1]), max(half[2], half[3]))
    }

    /// `output[r, :] += Σ_j P[r, j] · V[j, :]` over the block's `count` keys, V read in place
    /// (a block's rows are a few KB, so they stay in L1/L2 across all row pairs): 2 rows x 5
    /// vectors of output columns in registers, the probability broadcast.
    private func outputBlock(rows: Int, v: UnsafePointer<Float>, ldv: Int, count: Int) {
        var c = 0
        while c + 40 <= dv {
            var r = 0
            while r + 2 <= rows {
                outputKernel2x40(row: r, column: c, v: v, ldv: ldv, count: count)
                r += 2
            }
            if r < rows { outputKernel1x8(row: r, columns: c..<(c + 40), v: v, ldv: ldv, count: count) }
            c += 40
        }
        if c + 8 <= dv {
            let vectorEnd = c + (dv - c) / 8 * 8
            for r in 0..<rows { outputKernel1x8(row: r, columns: c..<vectorEnd, v: v, ldv: ldv, count: count) }
            c = vectorEnd
        }
        if c < dv {
            for r in 0..<rows {
                let p = scores + r * Self.keyBlock, o = output + r * dv
                for j in 0..<count {
                    let row = v + j * ldv
                    for cc in c..<dv { o[cc] += p[j] * row[cc] }
                }
            }
        }
    }

    @inline(__always)
    private func outputKernel2x40(row: Int, column: Int, v: UnsafePointer<Float>, ldv: Int, count: Int) {
        let p0 = UnsafePointer(scores) + row * Self.keyBlock, p1 = p0 + Self.keyBlock
        let o0 = output + row * dv + column, o1 = o0 + dv
        var a00 = load8(o0), a01 = load8(o0 + 8), a02 = load8(o0 + 16), a03 = load8(o0 + 24), a04 = load8(o0 + 32)
        var a10 = load8(o1), a11 = load8(o1 + 8), a12 = load8(o1 + 16), a13 = load8(o1 + 24), a14 = load8(o1 + 32)
        var vr = v + column
        for j in 0..<count {
            let b0 = load8(vr), b1 = load8(vr + 8), b2 = load8(vr + 16), b3 = load8(vr + 24), b4 = load8(vr + 32)
            var p = Vec8(repeating: p0[j])
            a00 = a00.addingProduct(p, b0)
            a01 = a01.addingProduct(p, b1)
            a02 = a02.addingProduct(p, b2)
            a03 = a03.addingProduct(p, b3)
            a04 = a04.addingProduct(p, b4)
            p = Vec8(repeating: p1[j])
            a10 = a10.addingProduct(p, b0)
            a11 = a11.addingProduct(p, b1)
            a12 = a12.addingProduct(p, b2)
            a13 = a13.addingProduct(p, b3)
            a14 = a14.addingProduct(p, b4)
            vr += ldv
        }
        store8(a00, o0)
        store8(a01, o0 + 8)
        store8(a02, o0 + 16)
        store8(a03, o0 + 24)
        store8(a04, o0 + 32)
        store8(a10, o1)
        store8(a11, o1 + 8)
        store8(a12, o1 + 16)
        store8(a13, o1 + 24)
        store8(a14, o1 + 32)
    }

    /// One row, the output columns `columns` (a multiple of 8 wide) one vector at a time.
    @inline(__always)
    private func outputKernel1x8(row: Int, columns: Range<Int>, v: UnsafePointer<Float>, ldv: Int, count: Int) {
        let p = UnsafePointer(scores) + row * Self.keyBlock
        for c in stride(from: columns.lowerBound, to: columns.upperBound, by: 8) {
            let o = output + row * dv + c
            var a = load8(o)
            var vr = v + c
            for j in 0..<count {
                a = a.addingProduct(Vec8(repeating: p[j]), load8(vr))
                vr += ldv
            }
            store8(a, o)
        }
    }
}
