import COpenBLAS
import Foundation

/// The machine's reference GEMM rate R: OpenBLAS `cblas_sgemm` on one whole problem with its own
/// thread pool over all cores, the way PyTorch calls it. Benchmarks report their rates as
/// ratios to R measured in the same run.
public enum ReferenceGEMM {
    /// Median seconds of `repeats` runs of an `m x k` by `k x n` product, after one warm-up.
    public static func seconds(m: Int, n: Int, k: Int, repeats: Int) -> Double {
        _ = BLAS.configured
        let a = [Float](repeating: 0.5, count: m * k), b = [Float](repeating: 0.25, count: k * n)
        var c = [Float](repeating: 0, count: m * n)
        openblas_set_num_threads(Int32(Threads.count))
        defer { openblas_set_num_threads(1) }
        var times: [Double] = []
        for run in 0...repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                1, a, Int32(k), b, Int32(n), 0, &c, Int32(n))
            if run > 0 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
        }
        return times.sorted()[times.count / 2]
    }
}
