/// 3x3, stride-1, padding-1 convolutions (nearly every convolution in SD's UNet and VAE) by
/// Winograd's minimal filtering F(2x2, 3x3): each 2x2 output tile costs 16 multiplications per
/// channel pair instead of 36, so the GEMM work drops to 4/9 of im2col's.
///
/// Per image, the output is cut into bands of tile rows. For a band, every input channel's 4x4
/// tiles go through Bᵀ·d·B into 16 matrices `V_k [Cin, tiles]`; 16 GEMMs `M_k = U_k · V_k` with
/// the transformed weights `U_k = (G·g·Gᵀ)_k [Cout, Cin]`; then Aᵀ·m·A turns each 4x4 `m` back
/// into a 2x2 output tile. All cores work on the same band, phase by phase. (Giving each core
/// its own bands measured about 10% slower: every core then packed every U_k for every band.)
/// The transforms only add and halve, so results stay within float rounding of direct
/// convolution (F(4x4, 3x3) would save more but loses about three digits).
///
/// Matches: Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks" (2015), F(2x2, 3x3)
/// with Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],
/// Aᵀ = [1 1 1 0; 0 1 −1 −1].
enum WinogradConvolution {
    /// Narrower maps give bands of a few dozen tiles, too thin for the 16 GEMMs to beat im2col.
    static let minimumWidth = 32
    /// Where the transform pays: a 3x3 stride-1 "same" convolution over a map wide enough that
    /// a band holds a useful GEMM width.
    static func applies(cin: Int, cout: Int, h: Int, w: Int, kh: Int, kw: Int, stride: Int, padding: Padding2D) -> Bool {
        kh == 3 && kw == 3 && stride == 1 && padding == .uniform(1) && w >= minimumWidth && h >= 4 && cin >= 8 && cout >= 8
    }

    /// `output` is `[n, cout, h, w]`; bias, if any, is added by the output transform.
    static func run(images n: Int, cin: Int, cout: Int, h: Int, w: Int, input: UnsafePointer<Float>,
                    weight: UnsafePointer<Float>, bias: [Float]?, output: UnsafeMutablePointer<Float>) {
        let transformed = UnsafeMutablePointer<Float>.allocate(capacity: 16 * cout * cin)
        defer { transformed.deallocate() }
        transformWeights(weight, cout: cout, cin: cin, into: transformed)

        let tilesX = (w + 1) / 2, tilesY = (h + 1) / 2
        // Bands of whole tile rows with about 8 MiB of transformed input or output, shared by all
        // cores: each phase (input transform by channel, the 16 GEMMs, output transform by
        // channel) is split across them, so every U_k is packed by OpenBLAS once per band, not
        // once per core, and bands can be wide.
        let rowsPerBand = max(1, min(tilesY, (8 << 20) / (64 * max(cin, cout) * tilesX)))
        let bandTiles = rowsPerBand * tilesX
        let rowWidth = 2 * tilesX + 2
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Threads.count * 8 * rowWidth)
        let v = UnsafeMutablePointer<Float>.allocate(capacity: 16 * cin * bandTiles)
        let m = UnsafeMutablePointer<Float>.allocate(capacity: 16 * cout * bandTiles)
        defer { scratch.deallocate(); v.deallocate(); m.deallocate() }
        for image in 0..<n {
            let x = input + image * cin * h * w, y = output + image * cout * h * w
            for tileRow0 in stride(from: 0, to: tilesY, by: rowsPerBand) {
                let tileRows = min(tilesY, tileRow0 + rowsPerBand) - tileRow0
                let tiles = tileRows * tilesX
                parallelChunks(cin, chunksPerThread: 4) { channels, thread in
                    for c in channels {
                        for r in 0..<tileRows {
                            transformInputRow(x + c * h * w, h: h, w: w, tileRow: tileRow0 + r, tilesX: tilesX,
                                              scratch: scratch + thread * 8 * rowWidth, into: v + c * tiles + r * tilesX, stride: cin * tiles)
                        }
                    }
                }
                parallelChunks(16, chunksPerThread: 8) { products, _ in
                    for k in products {
                        sgemmSerial(transA: false, transB: false, m: cout, n: tiles, k: cin,
                                    a: transformed + k * cout * cin, lda: cin, b: v + k * cin * tiles, ldb: tiles,
                                    c: m + k * cout * tiles, ldc: tiles)
                    }
                }
                parallelChunks(cout, chunksPerThread: 4) { channels, _ in
                    for o in channels {
                        for r in 0..<tileRows {
                            transformOutputRow(m + o * tiles + r * tilesX, stride: cout * tiles, tilesX: tilesX, bias: bias?[o] ?? 0,
                                               into: y + o * h * w, h: h, w: w, tileRow: tileRow0 + r)
                        }
                    }
                }
            }
        }
    }

    /// U = G·g·Gᵀ for every (output, input) channel pair, stored as 16 matrices `[Cout, Cin]`.
    /// Done per call: keeping U would cost 16/9 of every 3x3 weight in memory, and the transform
    /// is about 1/tiles of the GEMM work.
    static func transformWeights(_ weight: UnsafePointer<Float>, cout: Int, cin: Int, into u: UnsafeMutablePointer<Float>) {
        let plane = cout * cin
        parallelFor(cout) { o in
            let row = u + o * cin
            for c in 0..<cin {
                let g = weight + (o * cin + c) * 9
                // G·g, column by column: rows (g0, ½(g0+g1+g2), ½(g0−g1+g2), g2) of each column.
                let (a0, a1, a2) = (g[0], g[1], g[2]), (b0, b1, b2) = (g[3], g[4], g[5]), (c0, c1, c2) = (g[6], g[7], g[8])
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

    /// Bᵀ·d·B for one channel's row of tiles: first the column combinations over four padded
    /// input rows (contiguous, so they vectorize), then the row combinations per tile.
    /// Writes `V_k[tile]` at `into + k * stride + tile`.
    @inline(__always)
    static func transformInputRow(_ channel: UnsafePointer<Float>, h: Int, w: Int, tileRow: Int, tilesX: Int,
                                  scratch: UnsafeMutablePointer<Float>, into v: UnsafeMutablePointer<Float>, stride: Int) {
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
            let (v0, v1, v2, v3) = (v + (4 * i) * stride, v + (4 * i + 1) * stride, v + (4 * i + 2) * stride, v + (4 * i + 3) * stride)
            for t in 0..<tilesX {
                let (a, b, c, d) = (row[2 * t], row[2 * t + 1], row[2 * t + 2], row[2 * t + 3])
                v0[t] = a - c
                v1[t] = b + c
                v2[t] = c - b
                v3[t] = b - d
            }
        }
    }

    /// Aᵀ·m·A + bias for one output channel's row of tiles, dropping the overhang of odd sizes.
    @inline(__always)
    static func transformOutputRow(_ m: UnsafePointer<Float>, stride: Int, tilesX: Int, bias: Float,
                                   into channel: UnsafeMutablePointer<Float>, h: Int, w: Int, tileRow: Int) {
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
