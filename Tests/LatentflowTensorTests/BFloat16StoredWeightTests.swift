import Foundation
import LatentflowIO
import XCTest

@testable import LatentflowTensor

/// Weights stored in bfloat16 (`WeightOperand.bfloat16`, a UNet loaded under `--bf16-unet`): in
/// bfloat16 a layer must give exactly what it gives from float32 weights holding the rounded values,
/// which for the direct products (linear, 1x1 and im2col convolutions: rounding is idempotent) is
/// also what it gives from the unrounded weights, and PyTorch's result of the rounded values
/// (`scripts/make_bfloat16_fixtures.py`); Winograd transforms the rounded weight, as a bfloat16
/// model does, so there the bound is PyTorch's own bfloat16 convolution's error, as in
/// `BFloat16LayerTests`. In float32 a layer must give what it gives from the widened values. And a
/// product whose bfloat16 forms are kept must not widen the stored values again: that is what
/// makes the storage cost no per-call copy.
final class BFloat16StoredWeightTests: XCTestCase {
    static let fixtures = BFloat16GEMMTests.fixtures

    private let budget = WinogradWeightCache.budgetBytes

    override func tearDown() {
        BFloat16GEMM.useNativeKernel = BFloat16GEMM.hasNativeKernel
        ConvolutionSettings.winograd = .automatic
        WinogradWeightCache.budgetBytes = budget
        super.tearDown()
    }

    private var paths: [Bool] { BFloat16GEMM.hasNativeKernel ? [false, true] : [false] }

    private func tensor(_ name: String) throws -> Tensor { try Self.fixtures.tensor(name) }

    private func stored(_ w: Tensor) -> WeightOperand { .bfloat16(shape: w.shape, bits: w.bfloat16Bits) }

    private let convolutions: [(name: String, stride: Int, padding: Int, winograd: WinogradTiles)] = [
        ("conv1x1", 1, 0, .automatic), ("conv3x3_stride2", 2, 1, .automatic), ("conv3x3_same", 1, 1, .off),
        ("conv3x3_same", 1, 1, .automatic),
    ]

    func testStoredWeightsGiveTheFloat32WeightsBFloat16Result() throws {
        WinogradWeightCache.budgetBytes = 1 << 30
        for native in paths {
            BFloat16GEMM.useNativeKernel = native
            let x = try tensor("linear.x"), w = try tensor("linear.w"), b = try tensor("linear.b")
            let fromStored = try x.linear(weight: stored(w), bias: b, bfloat16: BFloat16WeightCache())
            let fromFloat32 = try x.linear(weight: w, bias: b, bfloat16: BFloat16WeightCache())
            XCTAssertTrue(fromStored.scalars == fromFloat32.scalars, "linear, native \(native)")
            assertClose(fromStored, try tensor("linear.rounded"), tolerance: 2e-6, "linear, native \(native)")
            for (name, stride, padding, winograd) in convolutions {
                ConvolutionSettings.winograd = winograd
                let x = try tensor("\(name).x"), w = try tensor("\(name).w"), b = try tensor("\(name).b")
                let rounded = try Tensor(shape: w.shape, bfloat16Bits: w.bfloat16Bits)
                func convolve(_ weight: WeightOperand) throws -> Tensor {
                    try x.conv2d(
                        weight: weight, bias: b, stride: stride, padding: .uniform(padding),
                        winogradCache: WinogradWeightCache(), bfloat16: BFloat16WeightCache())
                }
                let fromStored = try convolve(stored(w))
                let label = "\(name) \(winograd), native \(native)"
                XCTAssertTrue(fromStored.scalars == (try convolve(.float32(rounded))).scalars, label)
                if winograd == .off || name != "conv3x3_same" {
                    XCTAssertTrue(fromStored.scalars == (try convolve(.float32(w))).scalars, label)
                    assertClose(fromStored, try tensor("\(name).rounded"), tolerance: 3e-6, label)
                } else {
                    let exact = try tensor("conv3x3_same.exact")
                    let pytorchError = rmsDifference(try tensor("conv3x3_same.pytorch_bfloat16"), exact)
                    XCTAssertLessThan(rmsDifference(fromStored, exact), 1.25 * pytorchError, label)
                }
            }
        }
    }

    func testStoredWeightsInFloat32AreTheWidenedValues() throws {
        let x = try tensor("linear.x"), w = try tensor("linear.w"), b = try tensor("linear.b")
        let rounded = try Tensor(shape: w.shape, bfloat16Bits: w.bfloat16Bits)
        XCTAssertTrue(try x.linear(weight: stored(w), bias: b).scalars == x.linear(weight: rounded, bias: b).scalars)
        for (name, stride, padding, winograd) in convolutions {
            ConvolutionSettings.winograd = winograd
            let x = try tensor("\(name).x"), w = try tensor("\(name).w"), b = try tensor("\(name).b")
            let rounded = try Tensor(shape: w.shape, bfloat16Bits: w.bfloat16Bits)
            let fromStored = try x.conv2d(weight: stored(w), bias: b, stride: stride, padding: .uniform(padding))
            let fromRounded = try x.conv2d(weight: rounded, bias: b, stride: stride, padding: .uniform(padding))
            XCTAssertTrue(fromStored.scalars == fromRounded.scalars, "\(name) \(winograd)")
            let unrounded = try x.conv2d(weight: w, bias: b, stride: stride, padding: .uniform(padding))
            XCTAssertTrue(fromStored.scalars != unrounded.scalars, "\(name): the stored values were not rounded")
        }
    }

    /// The first call makes the kept forms from the widened values; later calls read only the
    /// forms. Winograd planes outside the budget are made per call, from values widened per call.
    func testKeptFormsAreUsedWithoutWideningTheStoredValues() throws {
        func widenings(_ body: () throws -> Void) rethrows -> Int {
            let before = WeightOperand.widenings
            try body()
            return WeightOperand.widenings - before
        }
        let x = try tensor("linear.x"), w = try tensor("linear.w"), b = try tensor("linear.b")
        let linearForms = BFloat16WeightCache()
        let weight = stored(w)
        XCTAssertEqual(try widenings { _ = try x.linear(weight: weight, bias: b, bfloat16: linearForms) }, 1)
        XCTAssertEqual(try widenings { _ = try x.linear(weight: weight, bias: b, bfloat16: linearForms) }, 0, "linear")
        for keptPlanes in [true, false] {
            WinogradWeightCache.budgetBytes = keptPlanes ? 1 << 30 : 0
            for (name, stride, padding, winograd) in convolutions {
                ConvolutionSettings.winograd = winograd
                let x = try tensor("\(name).x"), w = try tensor("\(name).w"), b = try tensor("\(name).b")
                let (weight, cache, forms) = (stored(w), WinogradWeightCache(), BFloat16WeightCache())
                func convolve() throws {
                    _ = try x.conv2d(
                        weight: weight, bias: b, stride: stride, padding: .uniform(padding), winogradCache: cache,
                        bfloat16: forms)
                }
                XCTAssertEqual(try widenings(convolve), 1, "\(name) \(winograd): first call")
                let perCall = winograd == .automatic && name == "conv3x3_same" && !keptPlanes
                XCTAssertEqual(
                    try widenings(convolve), perCall ? 1 : 0, "\(name) \(winograd), planes kept \(keptPlanes)")
            }
        }
    }
}
