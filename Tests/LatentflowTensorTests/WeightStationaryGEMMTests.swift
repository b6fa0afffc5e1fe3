import LatentflowTensor
import XCTest

/// The kernel's own paths that the PyTorch cases reach only in part: leading dimensions wider
/// than the matrices, B given transposed, accumulation onto C, and every remainder of 6-row tiles and 16-column
/// panels, against a double-precision product.
final class WeightStationaryGEMMTests: XCTestCase {
    func testStridedAndAccumulatingProductsMatchDoublePrecision() {
        var generator = SplitMix(seed: 7)
        for (n, s, k) in [(13, 37, 70), (6, 16, 3), (1, 1, 1), (20, 96, 129), (11, 5, 300)] {
            let (ldw, ldb, ldc) = (k + 5, s + 4, s + 8)
            let w = (0..<(n * ldw)).map { _ in generator.nextFloat() }
            let b = (0..<(k * ldb)).map { _ in generator.nextFloat() }
            let initial = (0..<(n * ldc)).map { _ in generator.nextFloat() }
            // The same B as Bᵀ [s, k] with rows k + 3 apart, as a linear layer's activations.
            let ldbT = k + 3
            var bT = [Float](repeating: .nan, count: s * ldbT)
            for l in 0..<k { for j in 0..<s { bT[j * ldbT + l] = b[l * ldb + j] } }
            for (accumulate, transposed) in [(false, false), (true, false), (false, true), (true, true)] {
                var c = initial
                w.withUnsafeBufferPointer { w in
                    (transposed ? bT : b).withUnsafeBufferPointer { b in
                        c.withUnsafeMutableBufferPointer { c in
                            WeightStationaryGEMM.multiply(
                                n: n, s: s, k: k, w: w.baseAddress!, ldw: ldw, b: b.baseAddress!,
                                ldb: transposed ? ldbT : ldb, bTransposed: transposed,
                                accumulate: accumulate, c: c.baseAddress!, ldc: ldc)
                        }
                    }
                }
                var worst: Double = 0
                for i in 0..<n {
                    for j in 0..<ldc {
                        guard j < s else {
                            XCTAssertEqual(
                                c[i * ldc + j], initial[i * ldc + j], "padding column \(j) of row \(i) was written")
                            continue
                        }
                        var sum = accumulate ? Double(initial[i * ldc + j]) : 0
                        for l in 0..<k { sum += Double(w[i * ldw + l]) * Double(b[l * ldb + j]) }
                        let error = abs(Double(c[i * ldc + j]) - sum) / Double(k).squareRoot()
                        worst = max(worst, error.isNaN ? .infinity : error)
                    }
                }
                // Terms are products of values in [-1, 1]: float32 sums of k of them stay within a few ulps · sqrt(k).
                XCTAssertLessThan(worst, 1e-6, "n \(n) s \(s) k \(k) accumulate \(accumulate) transposed \(transposed)")
            }
        }
    }
}

/// A small deterministic generator of floats in [-1, 1) (SplitMix64).
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func nextFloat() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }
}
