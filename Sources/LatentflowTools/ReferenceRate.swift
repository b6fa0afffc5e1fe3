import Foundation
import Latentflow

/// R, the machine's sgemm rate, sampled around every timed run of the benchmark.
///
/// This 2-core VM's speed drifts by up to 1.6x within seconds as other tenants load the host, so
/// an R measured once at the start says little about a case timed a minute later. Each timed run
/// therefore sits between two short samples of R, its ratio is taken against their mean, and a
/// case reports the median of those paired ratios (and the median of its times).
final class ReferenceRate {
    /// The im2col GEMM of SD's 320-channel 3x3 convolution at 64x64, on OpenBLAS's own threads.
    let m = 320, n = 4096, k = 2880
    private(set) var samples: [Double] = []
    /// Peak resident memory when R was first sampled (before any case allocated).
    private var firstPeakBytes: Int?

    var name: String { "sgemm R (OpenBLAS, \(m)x\(k) · \(k)x\(n))" }
    var gflop: Double { 2.0 * Double(m * n * k) / 1e9 }

    /// One sample of R in GFLOP/s: the median of three products, recorded.
    @discardableResult
    func sample() -> Double {
        let rate = gflop / ReferenceGEMM.seconds(m: m, n: n, k: k, repeats: 3)
        samples.append(rate)
        // OpenBLAS's pthread server leaves its workers spinning in sched_yield for 2^28 cycles
        // (about 0.1 s) after a threaded call before they sleep: a case timed right after a
        // sample shared its two cores with them (the 320-channel convolution measured 0.82 R so,
        // 1.45 R with OPENBLAS_THREAD_TIMEOUT=4, 1.39 R after this pause). Our kernels call
        // OpenBLAS single-threaded, so outside the benchmark those workers never wake.
        Thread.sleep(forTimeInterval: 0.15)
        if firstPeakBytes == nil { firstPeakBytes = ModelBenchmark.peakResidentBytes() }
        return rate
    }

    /// R over the whole run: the median of every sample taken.
    var summary: KernelBenchmark {
        let rate = Self.median(samples.isEmpty ? [sample()] : samples)
        var result = KernelBenchmark(name: name, seconds: gflop / rate, gflops: rate)
        result.peakBytes = firstPeakBytes ?? result.peakBytes
        return result
    }

    /// Times `body` `repeats` times after one warm-up run, each run between two samples of R.
    func measure(_ name: String, gflop: Double, repeats: Int, _ body: () throws -> Void) rethrows -> KernelBenchmark {
        try body()
        var times: [Double] = [], ratios: [Double] = []
        var before = sample()
        for _ in 0..<max(1, repeats) {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let after = sample()
            times.append(seconds)
            ratios.append(gflop / seconds / ((before + after) / 2))
            before = after
        }
        let seconds = Self.median(times)
        var result = KernelBenchmark(name: name, seconds: seconds, gflops: gflop / seconds)
        result.ratio = Self.median(ratios)
        return result
    }

    /// One run of `body` (it may not be repeatable, as a first run that loads a checkpoint),
    /// with its ratio against the samples of R just before and after it.
    func measureOnce(_ name: String, gflop: Double, _ body: () async throws -> Void) async rethrows -> KernelBenchmark {
        let before = sample()
        let start = DispatchTime.now().uptimeNanoseconds
        try await body()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let after = sample()
        var result = KernelBenchmark(name: name, seconds: seconds, gflops: gflop / seconds)
        result.ratio = gflop / seconds / ((before + after) / 2)
        return result
    }

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
}
