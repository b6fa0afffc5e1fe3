#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

typealias Vec16 = SIMD16<Float>
typealias Vec8 = SIMD8<Float>

/// The inner loops of tiled attention at 16 lanes (one AVX-512 register), for CPUs that have it:
/// the algorithm of LatentflowTensor's `AttentionTileWorkspace` (online softmax over blocks of
/// 128 keys, Kᵀ packed once per head, register-blocked products), with each product twice as
/// wide. This module is compiled for x86-64-v4, so only callers that checked the CPU may run it;
/// Swift has no per-function target attribute, hence a module of its own.
///
/// Kernels: scores 6 rows x 32 keys (twelve accumulators, Kᵀ padded to 32 per block), output
/// 6 rows x 32 columns, then 16- and 8-column tails (SD1.5's heads are 40, 80 and 160 wide).
public final class AttentionTile16 {
    public static let keyBlock = 128
    static let groupRows = 6
    /// Kᵀ columns are padded to a multiple of this (the score kernel's width).
    static let keyPadding = 32
    let d: Int, dv: Int, rows: Int
    /// Query rows times scale·log2(e), in panels `[d, groupRows]` per row group.
    let queries: UnsafeMutablePointer<Float>
    /// Scores, then probabilities, `[groups · groupRows, keyBlock]`.
    let scores: UnsafeMutablePointer<Float>
    /// Per score row, the lane-wise maximum of its block's scores (16 floats).
    let laneMax: UnsafeMutablePointer<Float>
    /// Unnormalized output rows `[rows, dv]`, running maxima and sums.
    let output: UnsafeMutablePointer<Float>
    let rowMax: UnsafeMutablePointer<Float>, rowSum: UnsafeMutablePointer<Float>

    public init(d: Int, dv: Int, rows: Int) {
        (self.d, self.dv, self.rows) = (d, dv, rows)
        let groups = Self.groups(rows: rows)
        queries = .allocate(capacity: groups * Self.groupRows * d)
        scores = .allocate(capacity: groups * Self.groupRows * Self.keyBlock)
        laneMax = .allocate(capacity: groups * Self.groupRows * 16)
        output = .allocate(capacity: rows * dv)
        rowMax = .allocate(capacity: rows)
        rowSum = .allocate(capacity: rows)
    }

    public func deallocate() {
        queries.deallocate()
        scores.deallocate()
        laneMax.deallocate()
        output.deallocate()
        rowMax.deallocate()
        rowSum.deallocate()
    }

    static func groups(rows: Int) -> Int { (rows + groupRows - 1) / groupRows }

    /// Floats `packKeys` writes for `keys` keys.
    public static func packedKeysCount(keys: Int, d: Int) -> Int {
        (keys + keyBlock - 1) / keyBlock * keyBlock * d
    }

    /// Kᵀ of one head in key blocks: block `i` is `[d, 32-padded block width]` at `i · d · keyBlock`,
    /// zero past the last key.
    @inline(never)
    public static func packKeys(
        _ k: UnsafePointer<Float>, ldk: Int, keys: Int, d: Int, into target: UnsafeMutablePointer<Float>
    ) {
        var key0 = 0
        while key0 < keys {
            let count = min(keyBlock, keys - key0), padded = paddedWidth(count)
            let blockTarget = target + key0 * d
            for c in 0..<d {
                let column = blockTarget + c * padded
                var from = k + key0 * ldk + c
                for j in 0..<count {
                    column[j] = from.pointee
                    from += ldk
                }
                for j in count..<padded { column[j] = 0 }
            }
            key0 += keyBlock
        }
    }

    @inline(__always)
    static func paddedWidth(_ count: Int) -> Int { (count + keyPadding - 1) / keyPadding * keyPadding }

    /// `out[r] = softmax(scale · q[r] · Kᵀ) · V` for `rows` query rows (row `r` is query position
    /// `firstRow + r`); `keysT` is the head's `packKeys` output.
    @inline(never)
    public func attend(
        q: UnsafePointer<Float>, ldq: Int, rows: Int, firstRow: Int,
        keysT: UnsafePointer<Float>, v: UnsafePointer<Float>, ldv: Int, keys: Int,
        scale: Float, causal: Bool, out: UnsafeMutablePointer<Float>, ldo: Int
    ) {
        let block = Self.keyBlock
        let toBase2 = scale * 1.442_695_04
        let groups = Self.groups(rows: rows)
        for i in 0..<(groups * d * Self.groupRows) { queries[i] = 0 }
        for r in 0..<rows {
            let panel = queries + (r / Self.groupRows) * d * Self.groupRows + r % Self.groupRows
            for e in 0..<d { panel[e * Self.groupRows] = q[r * ldq + e] * toBase2 }
        }
        for i in 0..<(rows * dv) { output[i] = 0 }
        for r in 0..<rows {
            rowMax[r] = -.infinity
            rowSum[r] = 0
        }
        let lastKey = causal ? min(keys, firstRow + rows) : keys
        var key0 = 0
        while key0 < lastKey {
            let n = min(block, lastKey - key0)
            let padded = Self.paddedWidth(n)
            let ldkt = Self.paddedWidth(min(block, keys - key0))
            for group in 0..<groups {
                scoreGroup(group, keysT: keysT + key0 * d, ldkt: ldkt, columns: padded)
                for r in (group * Self.groupRows)..<min(rows, (group + 1) * Self.groupRows) {
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

    private func scoreGroup(_ group: Int, keysT: UnsafePointer<Float>, ldkt: Int, columns: Int) {
        let panel = UnsafePointer(queries) + group * d * Self.groupRows
        let target = scores + group * Self.groupRows * Self.keyBlock
        let maxima = laneMax + group * Self.groupRows * 16
        for i in 0..<(Self.groupRows * 16) { maxima[i] = -.infinity }
        var j = 0
        while j < columns {
            scoreKernel6x32(panel: panel, keysT: keysT + j, ldkt: ldkt, scores: target + j, maxima: maxima)
            j += 32
        }
    }

    /// One 6x32 block of scores: per step two vectors of Kᵀ and six broadcast query values.
    @inline(__always)
    private func scoreKernel6x32(
        panel: UnsafePointer<Float>, keysT: UnsafePointer<Float>, ldkt: Int,
        scores s: UnsafeMutablePointer<Float>, maxima m: UnsafeMutablePointer<Float>
    ) {
        var a00 = Vec16(), a01 = Vec16(), a10 = Vec16(), a11 = Vec16(), a20 = Vec16(), a21 = Vec16()
        var a30 = Vec16(), a31 = Vec16(), a40 = Vec16(), a41 = Vec16(), a50 = Vec16(), a51 = Vec16()
        var kt = keysT, qp = panel
        for _ in 0..<d {
            let k0 = load16(kt), k1 = load16(kt + 16)
            var b = Vec16(repeating: qp[0])
            a00 = a00.addingProduct(b, k0)
            a01 = a01.addingProduct(b, k1)
            b = Vec16(repeating: qp[1])
            a10 = a10.addingProduct(b, k0)
            a11 = a11.addingProduct(b, k1)
            b = Vec16(repeating: qp[2])
            a20 = a20.addingProduct(b, k0)
            a21 = a21.addingProduct(b, k1)
            b = Vec16(repeating: qp[3])
            a30 = a30.addingProduct(b, k0)
            a31 = a31.addingProduct(b, k1)
            b = Vec16(repeating: qp[4])
            a40 = a40.addingProduct(b, k0)
            a41 = a41.addingProduct(b, k1)
            b = Vec16(repeating: qp[5])
            a50 = a50.addingProduct(b, k0)
            a51 = a51.addingProduct(b, k1)
            kt += ldkt
            qp += Self.groupRows
        }
        let ld = Self.keyBlock
        store16(a00, s)
        store16(a01, s + 16)
        store16(a10, s + ld)
        store16(a11, s + ld + 16)
        store16(a20, s + 2 * ld)
        store16(a21, s + 2 * ld + 16)
        store16(a30, s + 3 * ld)
        store16(a31, s + 3 * ld + 16)
        store16(a40, s + 4 * ld)
        store16(a41, s + 4 * ld + 16)
        store16(a50, s + 5 * ld)
        store16(a51, s + 5 * ld + 16)
        store16(vmax(load16(m), vmax(a00, a01)), m)
        store16(vmax(load16(m + 16), vmax(a10, a11)), m + 16)
        store16(vmax(load16(m + 32), vmax(a20, a21)), m + 32)
        store16(vmax(load16(m + 48), vmax(a30, a31)), m + 48)
        store16(vmax(load16(m + 64), vmax(a40, a41)), m + 64)
        store16(vmax(load16(m + 80), vmax(a50, a51)), m + 80)
    }

    /// Online softmax for one row of the block (base 2), as `AttentionTileWorkspace`'s.
    private func softmaxUpdate(row r: Int, valid: Int, padded: Int) {
        let p = scores + r * Self.keyBlock
        var blockMax = -Float.infinity
        if valid == padded {
            blockMax = horizontalMax(load16(laneMax + r * 16))
        } else {
            var i = 0
            if valid >= 16 {
                var m = load16(p)
                i = 16
                while i + 16 <= valid {
                    m = vmax(m, load16(p + i))
                    i += 16
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
            for i in 0..<padded { p[i] = 0 }
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
        let shift = Vec16(repeating: newMax)
        var sum0 = Vec16(), sum1 = Vec16()
        var i = 0
        while i &+ 32 <= valid {
            let e0 = vexp2NonPositive(load16(p + i) - shift), e1 = vexp2NonPositive(load16(p + i + 16) - shift)
            store16(e0, p + i)
            store16(e1, p + i + 16)
            sum0 += e0
            sum1 += e1
            i &+= 32
        }
        if i &+ 16 <= valid {
            let e = vexp2NonPositive(load16(p + i) - shift)
            store16(e, p + i)
            sum0 += e
            i &+= 16
        }
        var total = horizontalSum(sum0 + sum1)
        while i < valid {
            let e = vexp2NonPositive(Vec16(repeating: p[i] - newMax))[0]
            p[i] = e
            total += e
            i += 1
        }
        for j in valid..<padded { p[j] = 0 }
        rowSum[r] += total
    }

    /// `output[r, :] += Σ_j P[r, j] · V[j, :]` over the block's `count` keys: 32-column chunks of
    /// six rows, then 16- and 8-wide column tails, then single columns.
    private func outputBlock(rows: Int, v: UnsafePointer<Float>, ldv: Int, count: Int) {
        var c = 0
        while c + 32 <= dv {
            var r = 0
            while r + 6 <= rows {
                outputKernel6x32(row: r, column: c, v: v, ldv: ldv, count: count)
                r += 6
            }
            while r < rows {
                outputKernel1x16(row: r, column: c, v: v, ldv: ldv, count: count)
                outputKernel1x16(row: r, column: c + 16, v: v, ldv: ldv, count: count)
                r += 1
            }
            c += 32
        }
        if c + 16 <= dv {
            for r in 0..<rows { outputKernel1x16(row: r, column: c, v: v, ldv: ldv, count: count) }
            c += 16
        }
        if c + 8 <= dv {
            var r = 0
            while r + 6 <= rows {
                outputKernel6x8(row: r, column: c, v: v, ldv: ldv, count: count)
                r += 6
            }
            while r < rows {
                outputKernel1x8(row: r, column: c, v: v, ldv: ldv, count: count)
                r += 1
            }
            c += 8
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
    private func outputKernel6x32(row: Int, column: Int, v: UnsafePointer<Float>, ldv: Int, count: Int) {
        let p = UnsafePointer(scores) + row * Self.keyBlock, ld = Self.keyBlock
        let o = output + row * dv + column
        var a00 = load16(o), a01 = load16(o + 16)
        var a10 = load16(o + dv), a11 = load16(o + dv + 16)
        var a20 = load16(o + 2 * dv), a21 = load16(o + 2 * dv + 16)
        var a30 = load16(o + 3 * dv), a31 = load16(o + 3 * dv + 16)
        var a40 = load16(o + 4 * dv), a41 = load16(o + 4 * dv + 16)
        var a50 = load16(o + 5 * dv), a51 = load16(o + 5 * dv + 16)
        var vr = v + column
        for j in 0..<count {
            let b0 = load16(vr), b1 = load16(vr + 16)
            var s = Vec16(repeating: p[j])
            a00 = a00.addingProduct(s, b0)
            a01 = a01.addingProduct(s, b1)
            s = Vec16(repeating: p[ld + j])
            a10 = a10.addingProduct(s, b0)
            a11 = a11.addingProduct(s, b1)
            s = Vec16(repeating: p[2 * ld + j])
            a20 = a20.addingProduct(s, b0)
            a21 = a21.addingProduct(s, b1)
            s = Vec16(repeating: p[3 * ld + j])
            a30 = a30.addingProduct(s, b0)
            a31 = a31.addingProduct(s, b1)
            s = Vec16(repeating: p[4 * ld + j])
            a40 = a40.addingProduct(s, b0)
            a41 = a41.addingProduct(s, b1)
            s = Vec16(repeating: p[5 * ld + j])
            a50 = a50.addingProduct(s, b0)
            a51 = a51.addingProduct(s, b1)
            vr += ldv
        }
        store16(a00, o)
        store16(a01, o + 16)
        store16(a10, o + dv)
        store16(a11, o + dv + 16)
        store16(a20, o + 2 * dv)
        store16(a21, o + 2 * dv + 16)
        store16(a30, o + 3 * dv)
        store16(a31, o + 3 * dv + 16)
        store16(a40, o + 4 * dv)
        store16(a41, o + 4 * dv + 16)
        store16(a50, o + 5 * dv)
        store16(a51, o + 5 * dv + 16)
    }

    @inline(__always)
    private func outputKernel6x8(row: Int, column: Int, v: UnsafePointer<Float>, ldv: Int, count: Int) {
        let p = UnsafePointer(scores) + row * Self.keyBlock, ld = Self.keyBlock
        let o = output + row * dv + column
        var a0 = load8(o), a1 = load8(o + dv), a2 = load8(o + 2 * dv)
        var a3 = load8(o + 3 * dv), a4 = load8(o + 4 * dv), a5 = load8(o + 5 * dv)
        var vr = v + column
        for j in 0..<count {
            let b = load8(vr)
            a0 = a0.addingProduct(Vec8(repeating: p[j]), b)
            a1 = a1.addingProduct(Vec8(repeating: p[ld + j]), b)
            a2 = a2.addingProduct(Vec8(repeating: p[2 * ld + j]), b)
            a3 = a3.addingProduct(Vec8(repeating: p[3 * ld + j]), b)
            a4 = a4.addingProduct(Vec8(repeating: p[4 * ld + j]), b)
            a5 = a5.addingProduct(Vec8(repeating: p[5 * ld + j]), b)
            vr += ldv
        }
        store8(a0, o)
        store8(a1, o + dv)
        store8(a2, o + 2 * dv)
        store8(a3, o + 3 * dv)
        store8(a4, o + 4 * dv)
        store8(a5, o + 5 * dv)
    }

    @inline(__always)
    private func outputKernel1x16(row: Int, column: Int, v: UnsafePointer<Float>, ldv: Int, count: Int) {
        let p = UnsafePointer(scores) + row * Self.keyBlock
        let o = output + row * dv + column
        var a = load16(o)
        var vr = v + column
        for j in 0..<count {
            a = a.addingProduct(Vec16(repeating: p[j]), load16(vr))
            vr += ldv
        }
        store16(a, o)
    }

    @inline(__always)
    private func outputKernel1x8(row: Int, column: Int, v: UnsafePointer<Float>, ldv: Int, count: Int) {
        let p = UnsafePointer(scores) + row * Self.keyBlock
        let o = output + row * dv + column
        var a = load8(o)
        var vr = v + column
        for j in 0..<count {
            a = a.addingProduct(Vec8(repeating: p[j]), load8(vr))
            vr += ldv
        }
        store8(a, o)
    }
}
