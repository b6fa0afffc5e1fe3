import Foundation
import LatentflowIO
import XCTest

@testable import LatentflowTensor

/// `BFloat16GEMM` against PyTorch's bfloat16 rounding and float64 products of the rounded
/// inputs (`scripts/make_bfloat16_fixtures.py`), through the AVX512-BF16 kernel where the CPU
/// has it and through the float32 emulation on every host.
final class BFloat16GEMMTests: XCTestCase {
    static let fixtures: SafeTensorsFile = {
        let url = Bundle.module.url(
            forResource: "bfloat16_gemm", withExtension: "safetensors", subdirectory: "Fixtures")!
        return try! SafeTensorsFile(path: url.path)
    }()

    override func tearDown() {
        BFloat16GEMM.useNativeKernel = BFloat16GEMM.hasNativeKernel
        super.tearDown()
    }

    func testRoundingMatchesPyTorch() throws {
        let input = try Self.fixtures.tensor("rounding.input").scalars
        let expected = try Self.fixtures.tensor("rounding.expected").scalars
        for (value, reference) in zip(input, expected) {
            XCTAssertEqual(
                roundedToBFloat16(value).bitPattern, reference.bitPattern, "bfloat16 of \(value) should be \(reference)"
            )
        }
    }

    func testProductsMatchTheRoundedInputsProductOnEveryPath() throws {
        var paths = [false]
        if BFloat16GEMM.hasNativeKernel { paths.append(true) }
        for native in paths {
            BFloat16GEMM.useNativeKernel = native
            for name in ["ragged", "tiled", "deep"] {
                let w = try Self.fixtures.tensor("\(name).w"), x = try Self.fixtures.tensor("\(name).x")
                let (m, k, n) = (w.shape[0], w.shape[1], x.shape[1])
                let weight = BFloat16GEMM.Weight(w)
                for accumulate in [false, true] {
                    var c = accumulate ? try Self.fixtures.tensor("\(name).c") : Tensor(shape: [m, n])
                    x.withUnsafeBufferPointer { xs in
                        c.withUnsafeMutableBufferPointer { cs in
                            BFloat16GEMM.multiply(
                                weight, columns: n, x: xs.baseAddress!, ldx: n, accumulate: accumulate,
                                c: cs.baseAddress!, ldc: n)
                        }
                    }
                    let expected = try Self.fixtures.tensor("\(name).\(accumulate ? "accumulated" : "expected")")
                    // float32 sums of up to 1283 exact products: far below bfloat16's own 4e-3.
                    assertClose(
                        c, expected, tolerance: 2e-6 * Float(k).squareRoot(),
                        "\(name) \(m)x\(n)x\(k)\(accumulate ? " accumulated" : "") \(native ? "AVX512-BF16" : "emulated")"
                    )
                }
            }
        }
    }

    /// Columns outside the product's own (a strip's padding) and rows past the weight's are not
    /// written: the product lands in a wider matrix whose other entries stay as they were.
    func testWritesOnlyItsColumnsOfAWiderMatrix() throws {
        let w = try Self.fixtures.tensor("ragged.w"), x = try Self.fixtures.tensor("ragged.x")
        let (m, n) = (w.shape[0], x.shape[1]), ldc = n + 9
        var paths = [false]
        if BFloat16GEMM.hasNativeKernel { paths.append(true) }
        let expected = try Self.fixtures.tensor("ragged.expected").scalars
        for native in paths {
            BFloat16GEMM.useNativeKernel = native
            var c = [Float](repeating: 7, count: (m + 1) * ldc)
            x.withUnsafeBufferPointer { xs in
                BFloat16GEMM.multiply(
                    BFloat16GEMM.Weight(w), columns: n, x: xs.baseAddress!, ldx: n, accumulate: false, c: &c, ldc: ldc)
            }
            for row in 0...m {
                for column in 0..<ldc where row == m || column >= n {
                    XCTAssertEqual(c[row * ldc + column], 7, "row \(row) column \(column) was written")
                }
            }
            XCTAssertEqual(c[(m - 1) * ldc + n - 1], expected[(m - 1) * n + n - 1], accuracy: 1e-4)
        }
    }
}
