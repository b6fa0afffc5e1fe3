/// 3x3, stride-1, padding-1 convolutions (nearly every convolution in SD's UNet and VAE) by
/// Winograd's minimal filtering F(m x m, 3x3): an m x m output tile costs (m+2)² multiplications
/// per channel pair instead of 9m², so the GEMM work drops to 4/9 of im2col's with F(2x2, 3x3)
/// and to 1/4 with F(4x4, 3x3) (`WinogradF2x2`, `WinogradF4x4`: their transforms).
///
/// Per image, the output is cut into bands of tile rows. For a band, every input channel's
/// (m+2)² tiles go through Bᵀ·d·B into (m+2)² matrices `V_k [Cin, tiles]`; as many GEMMs
/// `M_k = U_k · V_k` with the transformed weights `U_k = (G·g·Gᵀ)_k [Cout, Cin]`; then Aᵀ·m·A
/// turns each `m` back into an output tile. All cores work on the same band, phase by phase.
/// (Giving each core its own bands measured about 10% slower: every core then packed every U_k
/// for every band.)
///
/// Matches: Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks" (2015).
enum WinogradConvolution {
    /// Narrower maps give bands of a few dozen tiles, too thin for the GEMMs to beat im2col.
    static let minimumWidth = 32

    /// Where the transform pays: a 3x3 stride-1 "same" convolution over a map wide enough that
    /// a band holds a useful GEMM width.
    static func applies(cin: Int, cout: Int, h: Int, w: Int, kh: Int, kw: Int, stride: Int, padding: Padding2D) -> Bool
    {
        kh == 3 && kw == 3 && stride == 1 && padding == .uniform(1) && w >= minimumWidth && h >= 4 && cin >= 8
            && cout >= 8
            && ConvolutionSettings.winograd != .off
    }

    /// Maps under `minimumWidth` whose F(2x2) planes are one thin product each (at most
    /// `WeightStationaryGEMM.maximumWidth` tiles: SD's 16x16 level at 256 px), for a layer whose
    /// transformed weight is kept (`runKept`). There the planes go to the weight-stationary kernel
    /// and F(2x2)'s 2.25x fewer multiplications pay, once the weight transform is not redone per
    /// call: the 32x32-latent UNet measured 0.93 R against 0.87 R for im2col (median of three
    /// alternating rounds, 1 GiB budget); transforming per call it measured 0.81 R, so without a
    /// kept transform these maps stay on im2col.
    static func appliesWhenKept(cin: Int, cout: Int, h: Int, w: Int, kh: Int, kw: Int, stride: Int, padding: Padding2D)
        -> Bool
    {
        let tiles = ((h + 1) / 2) * ((w + 1) / 2)
        return kh == 3 && kw == 3 && stride == 1 && padding == .uniform(1) && w >= 16 && w < minimumWidth && h >= 4
            && tiles <= WeightStationaryGEMM.maximumWidth && WeightStationaryGEMM.applies(n: cout, s: tiles, k: cin)
            && ConvolutionSettings.winograd == .automatic
    }

    /// F(2x2) with the layer's kept transform (see `appliesWhenKept`); false, having done nothing,
    /// when the cache's budget has no room for it.
    static func runKept(
        images n: Int, cin: Int, cout: Int, h: Int, w: Int, input: UnsafePointer<Float>,
        weight: WeightValues, bias: [Float]?, output: UnsafeMutablePointer<Float>,
        cache: WinogradWeightCache
    ) -> Bool {
        let kept = cache.matrices(tile: WinogradF2x2.tile, count: 16 * cout * cin) {
            WinogradF2x2.transformWeights(weight.pointer, cout: cout, cin: cin, into: $0)
        }
        guard kept != nil else { return false }
        run(
            WinogradF2x2.self, images: n, cin: cin, cout: cout, h: h, w: w, input: input, weight: weight,
            bias: bias, output: output, cache: cache)
        return true
    }

    /// F(2x2) in bfloat16 for a narrow map (`appliesWhenKept`) when its bfloat16 planes are kept
    /// (or fit `cache`'s budget now); false, having done nothing, when they are not.
    static func runKept(
        images n: Int, cin: Int, cout: Int, h: Int, w: Int, input: UnsafePointer<Float>,
        weight: WeightValues, bias: [Float]?, output: UnsafeMutablePointer<Float>,
        cache: WinogradWeightCache?, bfloat16: BFloat16WeightCache
    ) -> Bool {
        let kept = bfloat16.winogradPlanes(
            tile: WinogradF2x2.tile, planes: 16, cout: cout, cin: cin, budget: cache, onlyIfKept: true
        ) { WinogradF2x2.transformWeights(weight.pointer, cout: cout, cin: cin, into: $0) }
        guard kept != nil else { return false }
        run(
            WinogradF2x2.self, images: n, cin: cin, cout: cout, h: h, w: w, input: input, weight: weight,
            bias: bias, output: output, cache: cache, bfloat16: bfloat16)
        return true
    }

    /// F(4x4, 3x3) unless its 36 transformed weight matrices are large for the image's few
    /// tiles: OpenBLAS packs each per band, and beyond about 48 MB they no longer stay in the
    /// 32 MB L3 between the transform and the GEMMs. Measured in one process, alternating,
    /// median time of F(4x4) over F(2x2): 512 channels at 32x32 0.87, 320 at 32x32 0.75,
    /// 640 at 32x32 1.31 (59 MB), 512 at 64x64 0.74, 512 at 128x128 0.77, 256 at 256x256 0.71,
    /// 128 at 512x512 0.70.
    static func usesLargeTiles(cin: Int, cout: Int, h: Int, w: Int) -> Bool {
        switch ConvolutionSettings.winograd {
        case .f2x2: return false
        case .f4x4: return true
        case .automatic, .off: return h * w >= 64 * 64 || 36 * 4 * cin * cout <= 48 << 20
        }
    }

    /// `output` is `[n, cout, h, w]`; bias, if any, is added by the output transform.
    static func run(
        images n: Int, cin: Int, cout: Int, h: Int, w: Int, input: UnsafePointer<Float>,
        weight: WeightValues, bias: [Float]?, output: UnsafeMutablePointer<Float>,
        cache: WinogradWeightCache? = nil, bfloat16: BFloat16WeightCache? = nil
    ) {
        // In bfloat16, F(4x4)'s transformed tiles lose too much when rounded: its error measured 7x
        // PyTorch's own bfloat16 convolution's, F(2x2)'s 1.1x (`BFloat16LayerTests`); and F(2x2)
        // in bfloat16 ran the 64x64 UNet in 3.3 s against F(4x4)'s 2.9-3.0 s and float32's 4.5-5.2 s.
        if let bfloat16, ConvolutionSettings.winograd != .f4x4 {
            run(
                WinogradF2x2.self, images: n, cin: cin, cout: cout, h: h, w: w, input: input, weight: weight,
                bias: bias, output: output, cache: cache, bfloat16: bfloat16)
            return
        }
        if usesLargeTiles(cin: cin, cout: cout, h: h, w: w) {
            run(
                WinogradF4x4.self, images: n, cin: cin, cout: cout, h: h, w: w, input: input, weight: weight,
                bias: bias, output: output, cache: cache, bfloat16: bfloat16)
        } else {
            run(
                WinogradF2x2.self, images: n, cin: cin, cout: cout, h: h, w: w, input: input, weight: weight,
                bias: bias, output: output, cache: cache, bfloat16: bfloat16)
        }
    }

    /// With `bfloat16`, the planes' products take bfloat16 inputs: the transformed weights U_k and
    /// the transformed input tiles V_k are what is rounded (the weights' planes made by
    /// `BFloat16WeightCache`, kept within `cache`'s budget), and no float32 transform is kept.
    static func run<Tiling: WinogradTiling>(
        _: Tiling.Type, images n: Int, cin: Int, cout: Int, h: Int, w: Int,
        input: UnsafePointer<Float>, weight: WeightValues, bias: [Float]?,
        output: UnsafeMutablePointer<Float>, cache: WinogradWeightCache? = nil, bfloat16: BFloat16WeightCache? = nil
    ) {
        let planes = (Tiling.tile + 2) * (Tiling.tile + 2)
        let bfloat16Planes = bfloat16?.winogradPlanes(
            tile: Tiling.tile, planes: planes, cout: cout, cin: cin, budget: cache
        ) { Tiling.transformWeights(weight.pointer, cout: cout, cin: cin, into: $0) }
        let kept =
            bfloat16Planes != nil
            ? nil
            : cache?.matrices(tile: Tiling.tile, count: planes * cout * cin) {
                Tiling.transformWeights(weight.pointer, cout: cout, cin: cin, into: $0)
            }
        let scratchMatrices =
            kept == nil && bfloat16Planes == nil
            ? UnsafeMutablePointer<Float>.allocate(capacity: planes * cout * cin) : nil
        defer { scratchMatrices?.deallocate() }
        if let scratchMatrices { Tiling.transformWeights(weight.pointer, cout: cout, cin: cin, into: scratchMatrices) }
        let transformed = kept ?? scratchMatrices.map { UnsafePointer($0) }
        let productScratchWords = BFloat16GEMM.scratchCount(depth: cin)
        let productScratch =
            bfloat16Planes != nil
            ? UnsafeMutablePointer<UInt32>.allocate(capacity: Threads.count * productScratchWords) : nil
        defer { productScratch?.deallocate() }

        let tilesX = (w + Tiling.tile - 1) / Tiling.tile, tilesY = (h + Tiling.tile - 1) / Tiling.tile
        // Bands of whole tile rows with a bounded amount of transformed input or output, shared
        // by all cores: each phase (input transform by channel, the GEMMs, output transform by
        // channel) is split across them, so every U_k is packed by OpenBLAS once per band, not
        // once per core, and bands can be wide.
        let maximumRows = max(1, min(tilesY, Tiling.bandBytes / (4 * planes * max(cin, cout) * tilesX)))
        // Bands of equal height: a thin last band would pack every U_k again for a few tiles.
        let bands = (tilesY + maximumRows - 1) / maximumRows
        let rowsPerBand = (tilesY + bands - 1) / bands
        let bandTiles = rowsPerBand * tilesX
        let scratchPerThread = Tiling.scratchCount(tilesX: tilesX)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: Threads.count * scratchPerThread)
        scratch.initialize(repeating: 0, count: Threads.count * scratchPerThread)
        let v = UnsafeMutablePointer<Float>.allocate(capacity: planes * cin * bandTiles)
        // The output transform reads whole vectors of tiles: past a row's last tile it reads the
        // next row's products (all written by the GEMMs), past the band's last one this slack.
        let m = UnsafeMutablePointer<Float>.allocate(capacity: planes * cout * bandTiles + 8)
        (m + planes * cout * bandTiles).initialize(repeating: 0, count: 8)
        defer {
            scratch.deallocate()
            v.deallocate()
            m.deallocate()
        }
        for image in 0..<n {
            let x = input + image * cin * h * w, y = output + image * cout * h * w
            for tileRow0 in stride(from: 0, to: tilesY, by: rowsPerBand) {
                let tileRows = min(tilesY, tileRow0 + rowsPerBand) - tileRow0
                let tiles = tileRows * tilesX
                parallelChunks(cin, chunksPerThread: 4) { channels, thread in
                    for c in channels {
                        for r in 0..<tileRows {
                            Tiling.transformInputRow(
                                x + c * h * w, h: h, w: w, tileRow: tileRow0 + r, tilesX: tilesX,
                                scratch: scratch + thread * scratchPerThread,
                                into: v + c * tiles + r * tilesX, stride: cin * tiles)
                        }
                    }
                }
                if let bfloat16Planes, let productScratch {
                    parallelChunks(planes, chunksPerThread: 8) { products, thread in
                        for k in products {
                            BFloat16GEMM.multiplySerial(
                                bfloat16Planes[k], columns: tiles, x: v + k * cin * tiles, ldx: tiles,
                                accumulate: false,
                                c: m + k * cout * tiles, ldc: tiles,
                                scratch: productScratch + thread * productScratchWords)
                        }
                    }
                } else if let transformed, w < minimumWidth {
                    // The narrow maps of `appliesWhenKept`: each plane a thin product, on both cores.
                    for k in 0..<planes {
                        WeightStationaryGEMM.multiply(
                            n: cout, s: tiles, k: cin, w: transformed + k * cout * cin, ldw: cin,
                            b: v + k * cin * tiles, ldb: tiles, accumulate: false, c: m + k * cout * tiles, ldc: tiles)
                    }
                } else if let transformed {
                    parallelChunks(planes, chunksPerThread: 8) { products, _ in
                        for k in products {
                            sgemmSerial(
                                transA: false, transB: false, m: cout, n: tiles, k: cin,
                                a: transformed + k * cout * cin, lda: cin, b: v + k * cin * tiles, ldb: tiles,
                                c: m + k * cout * tiles, ldc: tiles)
                        }
                    }
                }
                parallelChunks(cout, chunksPerThread: 4) { channels, thread in
                    for o in channels {
                        for r in 0..<tileRows {
                            Tiling.transformOutputRow(
                                m + o * tiles + r * tilesX, stride: cout * tiles, tilesX: tilesX, bias: bias?[o] ?? 0,
                                scratch: scratch + thread * scratchPerThread,
                                into: y + o * h * w, h: h, w: w, tileRow: tileRow0 + r)
                        }
                    }
                }
            }
        }
    }
}

/// Which algorithm 3x3 "same" convolutions use: by default F(4x4) or F(2x2) by shape (see
/// `WinogradConvolution.usesLargeTiles`); tests and benchmarks pin one, or `.off` for im2col.
public enum WinogradTiles: String, Sendable, CaseIterable {
    case automatic, off, f2x2, f4x4
}

public enum ConvolutionSettings {
    nonisolated(unsafe) public static var winograd: WinogradTiles = .automatic
}

/// The three transforms of one F(m x m, 3x3) algorithm.
protocol WinogradTiling {
    /// m: the output tile's edge; input tiles are m + 2 wide and overlap by 2.
    static var tile: Int { get }
    /// How much transformed input (or output) a band may hold.
    static var bandBytes: Int { get }
    /// Floats of per-thread scratch for a row of `tilesX` tiles.
    static func scratchCount(tilesX: Int) -> Int
    /// U = G·g·Gᵀ for every (output, input) channel pair, stored as (m+2)² matrices `[Cout, Cin]`.
    static func transformWeights(
        _ weight: UnsafePointer<Float>, cout: Int, cin: Int, into u: UnsafeMutablePointer<Float>)
    /// Bᵀ·d·B for one input channel's row of tiles; writes `V_k[tile]` at `into + k * stride + tile`.
    static func transformInputRow(
        _ channel: UnsafePointer<Float>, h: Int, w: Int, tileRow: Int, tilesX: Int,
        scratch: UnsafeMutablePointer<Float>, into v: UnsafeMutablePointer<Float>, stride: Int)
    /// Aᵀ·m·A + bias for one output channel's row of tiles, `M_k[tile]` at `m + k * stride + tile`;
    /// drops the overhang of sizes that are not multiples of m.
    static func transformOutputRow(
        _ m: UnsafePointer<Float>, stride: Int, tilesX: Int, bias: Float,
        scratch: UnsafeMutablePointer<Float>,
        into channel: UnsafeMutablePointer<Float>, h: Int, w: Int, tileRow: Int)
}
