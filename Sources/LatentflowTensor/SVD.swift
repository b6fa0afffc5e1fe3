import COpenBLAS

extension Tensor {
    /// The reduced singular value decomposition of a matrix `[m, n]`: `u` `[m, k]`, `s` `[k]`
    /// (descending), `vh` `[k, n]` with k = min(m, n), so that self = u·diag(s)·vh. The signs of
    /// matching singular vectors are LAPACK's, as arbitrary as torch's.
    ///
    /// LAPACK's `sgesdd` (the driver `torch.linalg.svd` uses on CPU), run on the row-major buffer as the
    /// column-major transpose: its U and Vᵀ come back as our Vh and U.
    public func singularValueDecomposition() throws -> (u: Tensor, s: Tensor, vh: Tensor) {
        try requireShape(rank == 2 && count > 0, "singular value decomposition needs a non-empty matrix, got \(shape)")
        let (m, n) = (shape[0], shape[1])
        let k = Swift.min(m, n)
        guard let rows = Int32(exactly: n), let cols = Int32(exactly: m) else {
            throw TensorError.shapeMismatch("matrix \(shape) is too large for LAPACK")
        }
        _ = BLAS.configured
        var a = scalars
        var s = [Float](repeating: 0, count: k)
        var vhBuffer = [Float](repeating: 0, count: n * k)  // LAPACK's U of the transpose
        var uBuffer = [Float](repeating: 0, count: k * m)  // LAPACK's Vᵀ of the transpose
        var iwork = [Int32](repeating: 0, count: 8 * k)
        var (lda, ldu, ldvt) = (rows, rows, Int32(k))
        var info: Int32 = 0
        var jobz = Int8(UInt8(ascii: "S"))
        func run(_ work: inout [Float], _ lwork: Int32) {
            var (m32, n32, lwork) = (rows, cols, lwork)
            sgesdd_(
                &jobz, &m32, &n32, &a, &lda, &s, &vhBuffer, &ldu, &uBuffer, &ldvt, &work, &lwork, &iwork, &info, 1)
        }
        var query = [Float](repeating: 0, count: 1)
        run(&query, -1)
        var work = [Float](repeating: 0, count: Swift.max(1, Int(query[0])))
        if info == 0 { run(&work, Int32(work.count)) }
        guard info == 0 else {
            throw TensorError.shapeMismatch("LAPACK sgesdd failed on a \(shape) matrix (info \(info))")
        }
        return (
            try Tensor(shape: [m, k], scalars: uBuffer), try Tensor(shape: [k], scalars: s),
            try Tensor(shape: [k, n], scalars: vhBuffer)
        )
    }
}
