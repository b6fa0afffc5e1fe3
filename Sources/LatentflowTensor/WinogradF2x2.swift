/// Winograd F(2x2, 3x3): Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],
/// G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], Aᵀ = [1 1 1 0; 0 1 −1 −1]. The transforms only add and
/// halve, so results stay within float rounding of direct convolution.
enum WinogradF2x2: WinogradTiling {
    static let tile = 2
    static let bandBytes = 8 << 20

    /// Four padded input rows and their four column combinations.
    static func scratchCount(tilesX: Int) -> Int { 8 * (2 * tilesX + 2) }

    /// Per call, or once per layer where a `WinogradWeightCache` keeps U (16/9 of the weight's
    /// memory); its arithmetic is about 1/tiles of the GEMM work, its memory traffic more.
    static func transformWeights(
        _ weight: UnsafePointer<Float>, cout: Int, cin: Int, into u: UnsafeMutablePointer<Float>
    ) {
        let plane = cout * cin
        parallelFor(cout) { o in
            let row = u + o * cin
            for c in 0..<cin {
                let g = weight + (o * cin + c) * 9
                // G·g, column by column: rows (g0, ½(g0+g1+g2), ½(g0−g1+g2), g2) of each column.
                let (a0, a1, a2) = (g[0], g[1], g[2]), (b0, b1, b2) = (g[3], g[4], g[5]),
                    (c0, c1, c2) = (g[6], g[7], g[8])
                // Then each row times Gᵀ.
                @inline(__always) func emit(_ i: Int, _ x: Float, _ y: Float, _ z: Float) {
                    row[(4 * i) * plane + c] = x
                    row[(4 * i + 1) * plane + c] = 0.5 * (x + y + z)
                    row[(4 * i + 2) * plane + c] = 0.5 * (x - y + z)
                    row[(4 * i + 3) * plane + c] = z
                }
                emit(0, a0, a1, a2)
                emit(1, 0.5 * (a0 + b0 + c0), 0.5 * (a1 + b1 + c1), 0.5 * (a2 + b2 + c2))
                emit(2, 0.5 * (a0 - b0 + c0), 0.5 * (a1 - b1 + c1), 0.5 * (a2 - b2 + c2))
                emit(3, c0, c1, c2)
            }
        }
    }

    /// First the column combinations over four padded input rows (contiguous, so they
    /// vectorize), then the row combinations per tile.
    @inline(__always)
    static func transformInputRow(
        _ channel: UnsafePointer<Float>, h: Int, w: Int, tileRow: Int, tilesX: Int,
        scratch: UnsafeMutablePointer<Float>, into v: UnsafeMutablePointer<Float>, stride: Int
    ) {
        let width = 2 * tilesX + 2
        // Padded rows: index p holds input column p − 1.
        for i in 0..<4 {
            let row = scratch + i * width
            let y = 2 * tileRow - 1 + i
            if y < 0 || y >= h {
                row.update(repeating: 0, count: width)
            } else {
                row[0] = 0
                (row + 1).update(from: channel + y * w, count: w)
                (row + 1 + w).update(repeating: 0, count: width - 1 - w)
            }
        }
        let (d0, d1, d2, d3) = (scratch, scratch + width, scratch + 2 * width, scratch + 3 * width)
        let s = scratch + 4 * width
        let (s0, s1, s2, s3) = (s, s + width, s + 2 * width, s + 3 * width)
        for p in 0..<width {
            s0[p] = d0[p] - d2[p]
            s1[p] = d1[p] + d2[p]
            s2[p] = d2[p] - d1[p]
            s3[p] = d1[p] - d3[p]
        }
        for i in 0..<4 {
            let row = s + i * width
            let (v0, v1, v2, v3) = (
                v + (4 * i) * stride, v + (4 * i + 1) * stride, v + (4 * i + 2) * stride, v + (4 * i + 3) * stride
            )
            for t in 0..<tilesX {
                let (a, b, c, d) = (row[2 * t], row[2 * t + 1], row[2 * t + 2], row[2 * t + 3])
                v0[t] = a - c
                v1[t] = b + c
                v2[t] = c - b
                v3[t] = b - d
            }
        }
    }

    @inline(__always)
    static func transformOutputRow(
        _ m: UnsafePointer<Float>, stride: Int, tilesX: Int, bias: Float,
        scratch: UnsafeMutablePointer<Float>,
        into channel: UnsafeMutablePointer<Float>, h: Int, w: Int, tileRow: Int
    ) {
        let y0 = 2 * tileRow
        let top = channel + y0 * w
        let hasSecondRow = y0 + 1 < h
        for t in 0..<tilesX {
            @inline(__always) func at(_ k: Int) -> Float { m[k * stride + t] }
            // Column combinations Aᵀ·m (two rows of four), then row combinations ·A.
            let r0 = (at(0) + at(4) + at(8), at(1) + at(5) + at(9), at(2) + at(6) + at(10), at(3) + at(7) + at(11))
            let r1 = (at(4) - at(8) - at(12), at(5) - at(9) - at(13), at(6) - at(10) - at(14), at(7) - at(11) - at(15))
            let x = 2 * t
            top[x] = bias + (r0.0 + r0.1 + r0.2)
            if x + 1 < w { top[x + 1] = bias + (r0.1 - r0.2 - r0.3) }
            if hasSecondRow {
                top[w + x] = bias + (r1.0 + r1.1 + r1.2)
                if x + 1 < w { top[w + x + 1] = bias + (r1.1 - r1.2 - r1.3) }
            }
        }
    }
}
