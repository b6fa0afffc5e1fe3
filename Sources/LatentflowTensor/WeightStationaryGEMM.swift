/// `C = W · B (+ C)` for a large weight matrix `W [n, k]` and a thin activation matrix `B [k, s]`
/// (s at most `maximumWidth`): SD's deepest levels, 4x4 and 8x8 maps at 256 px and the 16 and 64
/// tokens of their transformers. W is read in place, never packed.
///
/// OpenBLAS packs the weight on every call, a full copy (59-118 MB for the 1280-channel 3x3
/// convolutions) that is not overlapped with arithmetic; with 16 columns to multiply the copy
/// cost as much as the product, and those convolutions ran at 0.45 of the GEMM rate. Here each
/// register tile of 6 rows of W is broadcast, value by value, against 16-wide vectors of B, so W
/// streams from memory once, 6 rows side by side, while the arithmetic runs.
///
/// Blocking: B is packed into panels of 16 columns (`[k, 16]` each, zero-padded) and walked in
/// blocks of k that hold `depthBudget` floats in all, so the block stays in L2 while every tile
/// of W runs against it. The 6 x 16 tile of C (12 AVX registers) accumulates over a block and is
/// added to C once per block.
///
/// Past 64 columns OpenBLAS's packing pays for itself: this kernel measured 1.03x OpenBLAS's
/// speed at 128 columns and 0.89x at 256; a linear layer over the prompt's 77 tokens, which also
/// pays for transposing its product, 0.93-1.06x.
package enum WeightStationaryGEMM {
    static let tileRows = 6
    static let panelWidth = 16
    static let maximumWidth = 64
    /// Floats of B per block of k: 128 KB, a quarter of the 512 KB L2 each core has here.
    static let depthBudget = 32768

    /// Whether `W [n, k] · B [k, s]` goes here rather than to OpenBLAS: a thin B and a weight of
    /// 1 MB or more (the sizes measured; SD's smaller weights are multiplied on wider maps).
    static func applies(n: Int, s: Int, k: Int) -> Bool { s <= maximumWidth && n * k >= 1 << 18 }

    /// Row-major `C[n, s] = W[n, k] · B[k, s]`, or `C += W · B` when `accumulate`; split over
    /// threads by tiles of W's rows, so each thread streams its own part of W. With
    /// `bTransposed` the argument `b` holds Bᵀ `[s, k]` (a linear layer's activations, one row per
    /// token), read in that layout by the packing.
    package static func multiply(
        n: Int, s: Int, k: Int, w: UnsafePointer<Float>, ldw: Int, b: UnsafePointer<Float>, ldb: Int,
        bTransposed: Bool = false, accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let panels = (s + panelWidth - 1) / panelWidth
        let depthBlock = max(64, depthBudget / (panels * panelWidth))
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: panels * k * panelWidth)
        defer { packed.deallocate() }
        parallelChunks(k, chunksPerThread: 2) { rows, _ in
            for panel in 0..<panels {
                let first = panel * panelWidth, width = min(panelWidth, s - first)
                let target = packed + panel * k * panelWidth
                if bTransposed {
                    for column in 0..<width {
                        let source = b + (first + column) * ldb
                        for row in rows { target[row * panelWidth + column] = source[row] }
                    }
                } else {
                    for row in rows { (target + row * panelWidth).update(from: b + row * ldb + first, count: width) }
                }
                if width < panelWidth {
                    for row in rows {
                        (target + row * panelWidth + width).update(repeating: 0, count: panelWidth - width)
                    }
                }
            }
        }
        let tiles = (n + tileRows - 1) / tileRows
        parallelChunks(tiles, chunksPerThread: 4) { tileRange, _ in
            let row0 = tileRange.lowerBound * tileRows, row1 = min(n, tileRange.upperBound * tileRows)
            // A partial last panel's tile of C goes through this scratch, padded like its panel.
            var scratch = [Float](repeating: 0, count: tileRows * panelWidth)
            scratch.withUnsafeMutableBufferPointer { scratch in
                for k0 in stride(from: 0, to: k, by: depthBlock) {
                    let depth = min(depthBlock, k - k0)
                    let add = accumulate || k0 > 0
                    for row in stride(from: row0, to: row1, by: tileRows) {
                        let rows = min(tileRows, row1 - row)
                        for panel in 0..<panels {
                            let first = panel * panelWidth, width = min(panelWidth, s - first)
                            let panelBlock = packed + (panel * k + k0) * panelWidth
                            let target = c + row * ldc + first
                            if width == panelWidth {
                                tile(
                                    rows: rows, depth: depth, w: w + row * ldw + k0, ldw: ldw, b: panelBlock,
                                    accumulate: add, c: target, ldc: ldc)
                                continue
                            }
                            let staged = scratch.baseAddress!
                            if add {
                                for r in 0..<rows {
                                    (staged + r * panelWidth).update(from: target + r * ldc, count: width)
                                }
                            }
                            tile(
                                rows: rows, depth: depth, w: w + row * ldw + k0, ldw: ldw, b: panelBlock,
                                accumulate: add, c: staged, ldc: panelWidth)
                            for r in 0..<rows { (target + r * ldc).update(from: staged + r * panelWidth, count: width) }
                        }
                    }
                }
            }
        }
    }

    /// One tile of C: 6 rows by the 6 x 16 kernel; the few rows left at the end of W one by one.
    @inline(__always)
    private static func tile(
        rows: Int, depth: Int, w: UnsafePointer<Float>, ldw: Int, b: UnsafePointer<Float>,
        accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if rows == tileRows {
            kernel6x16(depth: depth, w: w, ldw: ldw, b: b, accumulate: accumulate, c: c, ldc: ldc)
        } else {
            for r in 0..<rows { kernel1x16(depth: depth, w: w + r * ldw, b: b, accumulate: accumulate, c: c + r * ldc) }
        }
    }

    /// `C[6, 16] (+)= W[6, depth] · B[depth, 16]`, B a packed panel block (16 floats per step of k).
    private static func kernel6x16(
        depth: Int, w: UnsafePointer<Float>, ldw: Int, b: UnsafePointer<Float>,
        accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        typealias V = SIMD8<Float>
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
        var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
        let w0 = w, w1 = w + ldw, w2 = w + 2 * ldw, w3 = w + 3 * ldw, w4 = w + 4 * ldw, w5 = w + 5 * ldw
        var row = UnsafeRawPointer(b)
        for kk in 0..<depth {
            let b0 = row.loadUnaligned(as: V.self), b1 = (row + 32).loadUnaligned(as: V.self)
            row += 64
            var a = V(repeating: w0[kk])
            c00 = c00.addingProduct(a, b0)
            c01 = c01.addingProduct(a, b1)
            a = V(repeating: w1[kk])
            c10 = c10.addingProduct(a, b0)
            c11 = c11.addingProduct(a, b1)
            a = V(repeating: w2[kk])
            c20 = c20.addingProduct(a, b0)
            c21 = c21.addingProduct(a, b1)
            a = V(repeating: w3[kk])
            c30 = c30.addingProduct(a, b0)
            c31 = c31.addingProduct(a, b1)
            a = V(repeating: w4[kk])
            c40 = c40.addingProduct(a, b0)
            c41 = c41.addingProduct(a, b1)
            a = V(repeating: w5[kk])
            c50 = c50.addingProduct(a, b0)
            c51 = c51.addingProduct(a, b1)
        }
        store(c00, c01, c, accumulate)
        store(c10, c11, c + ldc, accumulate)
        store(c20, c21, c + 2 * ldc, accumulate)
        store(c30, c31, c + 3 * ldc, accumulate)
        store(c40, c41, c + 4 * ldc, accumulate)
        store(c50, c51, c + 5 * ldc, accumulate)
    }

    /// `C[1, 16] (+)= W[1, depth] · B[depth, 16]`.
    private static func kernel1x16(
        depth: Int, w: UnsafePointer<Float>, b: UnsafePointer<Float>,
        accumulate: Bool, c: UnsafeMutablePointer<Float>
    ) {
        typealias V = SIMD8<Float>
        var c0 = V(), c1 = V()
        var row = UnsafeRawPointer(b)
        for kk in 0..<depth {
            let a = V(repeating: w[kk])
            c0 = c0.addingProduct(a, row.loadUnaligned(as: V.self))
            c1 = c1.addingProduct(a, (row + 32).loadUnaligned(as: V.self))
            row += 64
        }
        store(c0, c1, c, accumulate)
    }

    @inline(__always)
    private static func store(
        _ low: SIMD8<Float>, _ high: SIMD8<Float>, _ c: UnsafeMutablePointer<Float>, _ accumulate: Bool
    ) {
        let raw = UnsafeMutableRawPointer(c)
        if accumulate {
            raw.storeBytes(of: raw.loadUnaligned(as: SIMD8<Float>.self) + low, as: SIMD8<Float>.self)
            (raw + 32).storeBytes(of: (raw + 32).loadUnaligned(as: SIMD8<Float>.self) + high, as: SIMD8<Float>.self)
        } else {
            raw.storeBytes(of: low, as: SIMD8<Float>.self)
            (raw + 32).storeBytes(of: high, as: SIMD8<Float>.self)
        }
    }
}
