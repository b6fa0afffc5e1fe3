import COpenBLAS

/// Matrix products on OpenBLAS's `cblas_sgemm`, the only BLAS entry point in Latentflow.
///
/// OpenBLAS runs single-threaded here; every product is split across `Threads.count` threads
/// by this module instead, so the same kernels serve both one big GEMM and the many small
/// per-tile GEMMs of convolution and attention without two thread pools fighting over cores.
enum BLAS {
    static let configured: Void = {
        _ = BLASCore.replacement
        openblas_set_num_threads(1)
    }()
}

/// Row-major `C = alpha * op(A) * op(B) + beta * C` on the calling thread.
@inline(__always)
func sgemmSerial(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    _ = BLAS.configured
    cblas_sgemm(
        CblasRowMajor,
        transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// Row-major GEMM split over threads: by rows of C when it is tall, else by columns.
func sgemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    let threads = Threads.count
    let flops = 2 * m * n * k
    if threads <= 1 || flops < 2_000_000 {
        sgemmSerial(
            transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
            a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        return
    }
    if m >= n {
        // Blocks of 16 rows keep each thread's panel aligned to the kernel's register tile.
        let blocks = (m + 15) / 16
        parallelChunks(blocks) { range, _ in
            let row0 = range.lowerBound * 16, row1 = min(m, range.upperBound * 16)
            guard row1 > row0 else { return }
            let aOffset = transA ? row0 : row0 * lda
            sgemmSerial(
                transA: transA, transB: transB, m: row1 - row0, n: n, k: k, alpha: alpha,
                a: a + aOffset, lda: lda, b: b, ldb: ldb, beta: beta, c: c + row0 * ldc, ldc: ldc)
        }
    } else {
        let blocks = (n + 15) / 16
        parallelChunks(blocks) { range, _ in
            let col0 = range.lowerBound * 16, col1 = min(n, range.upperBound * 16)
            guard col1 > col0 else { return }
            let bOffset = transB ? col0 * ldb : col0
            sgemmSerial(
                transA: transA, transB: transB, m: m, n: col1 - col0, k: k, alpha: alpha,
                a: a, lda: lda, b: b + bOffset, ldb: ldb, beta: beta, c: c + col0, ldc: ldc)
        }
    }
}

/// `C[n, s] = W[n, k] · B[k, s]`, or `C += W · B` when `accumulate`, for a layer's weight W and
/// its activations B: with `bfloat16` (W's bfloat16 form) on the bfloat16 kernel; else thin
/// products on large weights go to `WeightStationaryGEMM`, which reads W in place; the rest to
/// OpenBLAS.
func weightProduct(
    n: Int, s: Int, k: Int, w: WeightValues, ldw: Int, b: UnsafePointer<Float>, ldb: Int,
    accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int, bfloat16: BFloat16WeightCache? = nil
) {
    if let bfloat16 {
        BFloat16GEMM.multiply(
            bfloat16.matrix(w, rows: n, depth: k), columns: s, x: b, ldx: ldb, accumulate: accumulate, c: c, ldc: ldc)
    } else if WeightStationaryGEMM.applies(n: n, s: s, k: k) {
        WeightStationaryGEMM.multiply(
            n: n, s: s, k: k, w: w.pointer, ldw: ldw, b: b, ldb: ldb, accumulate: accumulate, c: c, ldc: ldc)
    } else {
        sgemm(
            transA: false, transB: false, m: n, n: s, k: k, a: w.pointer, lda: ldw, b: b, ldb: ldb,
            beta: accumulate ? 1 : 0, c: c, ldc: ldc)
    }
}

extension Tensor {
    /// Matrix product over the last two dimensions, `[..., M, K] x [..., K, N] -> [..., M, N]`.
    /// Leading dimensions must be equal, or `other` may be a plain matrix shared by every batch.
    public func matmul(_ other: Tensor, transposeOther: Bool = false) throws -> Tensor {
        try requireShape(rank >= 2 && other.rank >= 2, "matmul needs matrices, got \(shape) and \(other.shape)")
        let m = dim(-2), k = dim(-1)
        let otherK = transposeOther ? other.dim(-1) : other.dim(-2)
        let n = transposeOther ? other.dim(-2) : other.dim(-1)
        try requireShape(
            k == otherK, "matmul inner dimensions differ: \(shape) x \(other.shape)\(transposeOther ? "ᵀ" : "")")
        let batchShape = Array(shape.dropLast(2))
        let otherBatch = Array(other.shape.dropLast(2))
        let sharedOther = other.rank == 2
        try requireShape(
            sharedOther || batchShape == otherBatch,
            "matmul batch dimensions differ: \(shape) x \(other.shape)")
        let batches = batchShape.reduce(1, *)
        var result = Tensor(shape: batchShape + [m, n])
        withUnsafeBufferPointer { a in
            other.withUnsafeBufferPointer { b in
                result.withUnsafeMutableBufferPointer { c in
                    for batch in 0..<batches {
                        sgemm(
                            transA: false, transB: transposeOther, m: m, n: n, k: k,
                            a: a.baseAddress! + batch * m * k, lda: k,
                            b: b.baseAddress! + (sharedOther ? 0 : batch * k * n), ldb: transposeOther ? k : n,
                            c: c.baseAddress! + batch * m * n, ldc: n)
                    }
                }
            }
        }
        return result
    }

    /// A fully connected layer as PyTorch's `nn.Linear`: `x[..., in] -> x W^T + b`, weight `[out, in]`.
    /// - Parameter bfloat16: the weight's bfloat16 forms, to compute in bfloat16 (`ProductPrecision`);
    ///   only for a weight whose values never change.
    public func linear(weight: Tensor, bias: Tensor? = nil, bfloat16: BFloat16WeightCache? = nil) throws -> Tensor {
        try linear(weight: .float32(weight), bias: bias, bfloat16: bfloat16)
    }

    /// `linear` with the weight as a layer holds it (float32, or bfloat16 values that are widened
    /// only when no kept bfloat16 form serves the product).
    public func linear(weight: WeightOperand, bias: Tensor? = nil, bfloat16: BFloat16WeightCache? = nil) throws
        -> Tensor
    {
        try requireShape(
            weight.rank == 2 && weight.shape[1] == dim(-1),
            "linear weight \(weight.shape) does not fit input \(shape)")
        let outFeatures = weight.shape[0]
        if let bias {
            try requireShape(bias.shape == [outFeatures], "linear bias \(bias.shape) for \(outFeatures) outputs")
        }
        let rows = count / dim(-1), inFeatures = dim(-1)
        var result = Tensor(shape: Array(shape.dropLast()) + [outFeatures])
        if bfloat16 == nil, WeightStationaryGEMM.applies(n: outFeatures, s: rows, k: inFeatures) {
            // Cᵀ = W · Aᵀ, then transposed back onto the bias.
            let product = UnsafeMutablePointer<Float>.allocate(capacity: outFeatures * rows)
            defer { product.deallocate() }
            withUnsafeBufferPointer { a in
                weight.withValues { w in
                    WeightStationaryGEMM.multiply(
                        n: outFeatures, s: rows, k: inFeatures, w: w.pointer, ldw: inFeatures,
                        b: a.baseAddress!, ldb: inFeatures, bTransposed: true,
                        accumulate: false, c: product, ldc: rows)
                }
            }
            result.withUnsafeMutableBufferPointer { c in
                transpose(product, rows: outFeatures, columns: rows, adding: bias?.scalars, into: c.baseAddress!)
            }
            return result
        }
        result.withUnsafeMutableBufferPointer { c in
            if let bias {
                bias.withUnsafeBufferPointer { b in
                    for row in 0..<rows {
                        (c.baseAddress! + row * outFeatures).update(from: b.baseAddress!, count: outFeatures)
                    }
                }
            }
            withUnsafeBufferPointer { a in
                weight.withValues { w in
                    if let bfloat16 {
                        BFloat16GEMM.multiply(
                            rows: a.baseAddress!, count: rows, ldx: inFeatures,
                            by: bfloat16.transposed(w, columns: outFeatures, depth: inFeatures),
                            accumulate: bias != nil, c: c.baseAddress!, ldc: outFeatures)
                        return
                    }
                    sgemm(
                        transA: false, transB: true, m: rows, n: outFeatures, k: inFeatures,
                        a: a.baseAddress!, lda: inFeatures, b: w.pointer, ldb: inFeatures,
                        beta: bias == nil ? 0 : 1, c: c.baseAddress!, ldc: outFeatures)
                }
            }
        }
        return result
    }
}

/// `[rows, columns]` to `[columns, rows]`, plus `bias[row]` on every value of a row if given;
/// split over threads by blocks of 16 columns, so each source row is read a cache line at a time.
func transpose(
    _ source: UnsafePointer<Float>, rows: Int, columns: Int, adding bias: [Float]?,
    into target: UnsafeMutablePointer<Float>
) {
    let block = 16
    parallelChunks((columns + block - 1) / block) { blocks, _ in
        for column0 in stride(from: blocks.lowerBound * block, to: min(columns, blocks.upperBound * block), by: block) {
            let column1 = min(columns, column0 + block)
            for row in 0..<rows {
                let shift = bias?[row] ?? 0
                for column in column0..<column1 { target[column * rows + row] = source[row * columns + column] + shift }
            }
        }
    }
}
