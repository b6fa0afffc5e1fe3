import CBFloat16GEMM

/// `C[m, n] = W[m, k] · X[k, n]` (or `C += W · X`) with both inputs rounded to bfloat16 and
/// float32 accumulation: the products of PyTorch's bfloat16 matmul on CPUs with AVX512-BF16,
/// whose dot-product instruction does two multiply-adds per float32 lane. On one Zen 4 core the
/// kernel measured 153 GFLOP/s against OpenBLAS sgemm's 82 on a 320x4096x2880 product, and
/// 1.7-2.5x sgemm's rate on the UNet's other product shapes (`latentflow-tools bench` reports it
/// on two threads as a ratio to R: 1.73-2.00 R there). Elsewhere the same rounded
/// inputs go through OpenBLAS in float32: the same result up to the order of the float32 sums,
/// which is what the tests check on every host.
///
/// The products of the bfloat16 compute mode (`ProductPrecision`, ComfyUI's `--bf16-unet`):
/// a UNet in bfloat16 measured 2.0x faster than in float32 in PyTorch on that host.
public enum BFloat16GEMM {
    /// Whether this CPU runs the AVX512-BF16 kernel (else the float32 emulation runs).
    public static let hasNativeKernel = lf_cpu_has_avx512_bf16() == 1

    /// Whether weights made from now on take the kernel's path; false forces the float32
    /// emulation, for tests that compare the two paths.
    nonisolated(unsafe) public static var useNativeKernel = hasNativeKernel

    /// A weight `[m, k]` rounded to bfloat16 once: packed for the kernel (half the float32 weight's
    /// memory) when it runs, else kept as the rounded float32 values the emulation multiplies.
    /// Which of the two is fixed when the weight is made (`useNativeKernel` at that time).
    public final class Weight: @unchecked Sendable {
        public let rows: Int, depth: Int
        /// The kernel's tiles (`lf_bf16_pack_weight`), or nil where the emulation runs.
        let packed: [UInt32]?
        /// The rounded values `[rows, depth]` for the emulation, or nil where the kernel runs.
        let rounded: [Float]?

        public init(_ weight: UnsafePointer<Float>, rows: Int, depth: Int, rowStride: Int? = nil) {
            precondition(rows > 0 && depth > 0, "a bfloat16 weight needs rows and depth")
            (self.rows, self.depth) = (rows, depth)
            let ldw = rowStride ?? depth
            if useNativeKernel {
                let words = Int(lf_bf16_packed_weight_words(Int32(rows), Int32(depth)))
                packed = [UInt32](unsafeUninitializedCapacity: words) { buffer, count in
                    lf_bf16_pack_weight(weight, Int32(rows), Int32(depth), Int32(ldw), buffer.baseAddress!)
                    count = words
                }
                rounded = nil
            } else {
                rounded = [Float](unsafeUninitializedCapacity: rows * depth) { buffer, count in
                    roundToBFloat16(weight, rows: rows, columns: depth, stride: ldw, into: buffer.baseAddress!)
                    count = rows * depth
                }
                packed = nil
            }
        }

        /// Bytes this weight keeps.
        public var byteCount: Int { (packed?.count ?? 0) * 4 + (rounded?.count ?? 0) * 4 }

        /// Bytes a weight `[rows, depth]` made now keeps.
        static func byteCount(rows: Int, depth: Int) -> Int {
            useNativeKernel ? Int(lf_bf16_packed_weight_words(Int32(rows), Int32(depth))) * 4 : rows * depth * 4
        }

        public convenience init(_ weight: Tensor) {
            precondition(weight.rank == 2, "a bfloat16 weight is a matrix, got \(weight.shape)")
            let (rows, depth) = (weight.shape[0], weight.shape[1])
            self.init(weight.scalars, rows: rows, depth: depth)
        }
    }

    /// Row-major `C[m, n] = W · X[k, n]`, or `C += W · X` when `accumulate`; split over threads
    /// by strips of 32 columns.
    public static func multiply(
        _ weight: Weight, columns n: Int, x: UnsafePointer<Float>, ldx: Int, accumulate: Bool,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let (m, k) = (weight.rows, weight.depth)
        guard n > 0 else { return }
        guard let packed = weight.packed else {
            emulated(weight, columns: n, x: x, ldx: ldx, accumulate: accumulate, c: c, ldc: ldc, threaded: true)
            return
        }
        let strip = Int(LF_BF16_TILE_COLUMNS)
        let strips = (n + strip - 1) / strip
        let scratchWords = Int(lf_bf16_scratch_words(Int32(k)))
        let scratch = UnsafeMutablePointer<UInt32>.allocate(capacity: Threads.count * scratchWords)
        defer { scratch.deallocate() }
        packed.withUnsafeBufferPointer { packed in
            parallelChunks(strips, chunksPerThread: 4) { range, thread in
                lf_bf16_gemm_columns(
                    Int32(m), Int32(k), packed.baseAddress!, x, Int32(ldx), Int32(range.lowerBound * strip),
                    Int32(min(n, range.upperBound * strip)), c, Int32(ldc), accumulate ? 1 : 0,
                    scratch + thread * scratchWords)
            }
        }
    }
}

extension BFloat16GEMM {
    /// The column operand `Wᵀ [k, n]` of a product `X · Wᵀ` (a linear layer's weight `W [n, k]`),
    /// rounded to bfloat16 once: packed as the kernel's 32-column strips when it runs (half the
    /// float32 weight's memory), else kept as the rounded float32 `Wᵀ` the emulation multiplies.
    public final class Columns: @unchecked Sendable {
        public let columns: Int, depth: Int
        let strips: [UInt32]?
        let roundedTransposed: [Float]?

        /// From `weight` `[n, k]` (row stride `rowStride`, default k).
        public init(transposing weight: UnsafePointer<Float>, columns n: Int, depth k: Int, rowStride: Int? = nil) {
            precondition(n > 0 && k > 0, "a bfloat16 column operand needs columns and depth")
            (columns, depth) = (n, k)
            let ldw = rowStride ?? k
            if useNativeKernel {
                let words = Int(lf_bf16_packed_columns_words(Int32(k), Int32(n)))
                strips = [UInt32](unsafeUninitializedCapacity: words) { buffer, count in
                    lf_bf16_pack_transposed_columns(weight, Int32(n), Int32(k), Int32(ldw), buffer.baseAddress!)
                    count = words
                }
                roundedTransposed = nil
            } else {
                roundedTransposed = [Float](unsafeUninitializedCapacity: k * n) { buffer, count in
                    roundToBFloat16(
                        weight, rows: n, columns: k, stride: ldw, transposed: true, into: buffer.baseAddress!)
                    count = k * n
                }
                strips = nil
            }
        }

        /// Bytes this operand keeps.
        public var byteCount: Int { (strips?.count ?? 0) * 4 + (roundedTransposed?.count ?? 0) * 4 }
    }

    /// Row-major `C[m, n] = X[m, k] · Wᵀ`, or `C += X · Wᵀ` when `accumulate` (a linear layer):
    /// X is rounded and packed as the kernel's broadcast operand, once per call, and the kept
    /// strips of `Wᵀ` are its column operand, so nothing is transposed. Split over threads by
    /// strips of 32 output columns.
    public static func multiply(
        rows x: UnsafePointer<Float>, count m: Int, ldx: Int, by w: Columns, accumulate: Bool,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let (n, k) = (w.columns, w.depth)
        guard m > 0 else { return }
        guard let strips = w.strips else {
            let rounded = UnsafeMutablePointer<Float>.allocate(capacity: m * k)
            defer { rounded.deallocate() }
            roundToBFloat16(x, rows: m, columns: k, stride: ldx, into: rounded)
            w.roundedTransposed!.withUnsafeBufferPointer { wt in
                sgemm(
                    transA: false, transB: false, m: m, n: n, k: k, a: rounded, lda: k, b: wt.baseAddress!, ldb: n,
                    beta: accumulate ? 1 : 0, c: c, ldc: ldc)
            }
            return
        }
        let tileRows = Int(LF_BF16_TILE_ROWS), stripWidth = Int(LF_BF16_TILE_COLUMNS)
        let packed = UnsafeMutablePointer<UInt32>.allocate(
            capacity: Int(lf_bf16_packed_weight_words(Int32(m), Int32(k))))
        defer { packed.deallocate() }
        let tiles = (m + tileRows - 1) / tileRows, tileWords = tileRows * ((k + 1) / 2)
        parallelChunks(tiles) { range, _ in
            let row0 = range.lowerBound * tileRows, row1 = min(m, range.upperBound * tileRows)
            lf_bf16_pack_rows(
                x + row0 * ldx, Int32(row1 - row0), Int32(k), Int32(ldx), packed + range.lowerBound * tileWords)
        }
        strips.withUnsafeBufferPointer { strips in
            parallelChunks((n + stripWidth - 1) / stripWidth, chunksPerThread: 4) { range, _ in
                lf_bf16_gemm_packed(
                    Int32(m), Int32(k), packed, strips.baseAddress!, Int32(n), Int32(range.lowerBound),
                    Int32(range.upperBound), c, Int32(ldc), accumulate ? 1 : 0)
            }
        }
    }

    /// `multiply(_:columns:…)` on the calling thread, for callers that split the work themselves
    /// (a Winograd convolution's planes); `scratch` holds `scratchCount(depth:)` words.
    static func multiplySerial(
        _ weight: Weight, columns n: Int, x: UnsafePointer<Float>, ldx: Int, accumulate: Bool,
        c: UnsafeMutablePointer<Float>, ldc: Int, scratch: UnsafeMutablePointer<UInt32>
    ) {
        let (m, k) = (weight.rows, weight.depth)
        guard n > 0 else { return }
        guard let packed = weight.packed else {
            emulated(weight, columns: n, x: x, ldx: ldx, accumulate: accumulate, c: c, ldc: ldc, threaded: false)
            return
        }
        packed.withUnsafeBufferPointer { packed in
            lf_bf16_gemm_columns(
                Int32(m), Int32(k), packed.baseAddress!, x, Int32(ldx), 0, Int32(n), c, Int32(ldc), accumulate ? 1 : 0,
                scratch)
        }
    }

    /// The emulation of `multiply`: X rounded to bfloat16, times the rounded weight on OpenBLAS
    /// (split over threads, or on the calling thread).
    private static func emulated(
        _ weight: Weight, columns n: Int, x: UnsafePointer<Float>, ldx: Int, accumulate: Bool,
        c: UnsafeMutablePointer<Float>, ldc: Int, threaded: Bool
    ) {
        let (m, k) = (weight.rows, weight.depth)
        let rounded = UnsafeMutablePointer<Float>.allocate(capacity: k * n)
        defer { rounded.deallocate() }
        roundToBFloat16(x, rows: k, columns: n, stride: ldx, into: rounded)
        weight.rounded!.withUnsafeBufferPointer { w in
            let product = threaded ? sgemm : sgemmSerial
            product(false, false, m, n, k, 1, w.baseAddress!, k, rounded, n, accumulate ? 1 : 0, c, ldc)
        }
    }

    /// Scratch words `multiplySerial` needs for depth `k`.
    static func scratchCount(depth k: Int) -> Int { Int(lf_bf16_scratch_words(Int32(k))) }

    /// `lf_bf16_pack_weight`'s layout by the vectorised packing of activations (tests compare the two).
    static func packRows(_ x: UnsafePointer<Float>, rows m: Int, depth k: Int) -> [UInt32] {
        let words = Int(lf_bf16_packed_weight_words(Int32(m), Int32(k)))
        return [UInt32](unsafeUninitializedCapacity: words) { buffer, count in
            lf_bf16_pack_rows(x, Int32(m), Int32(k), Int32(k), buffer.baseAddress!)
            count = words
        }
    }
}

/// `source` `[rows, columns]` (row stride `stride`) rounded to bfloat16, into `target` as a
/// contiguous `[rows, columns]`, or `[columns, rows]` when `transposed`: the emulation's operands.
func roundToBFloat16(
    _ source: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int, transposed: Bool = false,
    into target: UnsafeMutablePointer<Float>
) {
    for row in 0..<rows {
        for column in 0..<columns {
            let value = roundedToBFloat16(source[row * stride + column])
            if transposed { target[column * rows + row] = value } else { target[row * columns + column] = value }
        }
    }
}

/// The float32 value nearest to `value` in bfloat16 (ties to even), as PyTorch's
/// `tensor.to(torch.bfloat16)` rounds; NaN stays NaN.
@inline(__always)
public func roundedToBFloat16(_ value: Float) -> Float {
    Float(bitPattern: UInt32(HalfPrecision.bfloat16Bits(value)) << 16)
}
