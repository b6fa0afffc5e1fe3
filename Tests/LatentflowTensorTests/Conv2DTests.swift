import LatentflowTensor
import XCTest

final class Conv2DTests: XCTestCase {
    override func tearDown() {
        ConvolutionSettings.winograd = .automatic
    }

    func testAgainstPyTorch() throws {
        for algorithm in [WinogradTiles.automatic, .f2x2, .f4x4, .off] {
            ConvolutionSettings.winograd = algorithm
            try compareFixtures("\(algorithm)")
        }
    }

    /// Winograd's transforms trade accuracy for multiplications: on an SD-sized layer (unit
    /// activations, weights of std 1/sqrt(fan-in)) F(2x2, 3x3) stays at float rounding of
    /// im2col and F(4x4, 3x3) within a few 1e-6 (NumPy, float32 against float64: 3e-7 direct,
    /// 6e-7 F(2x2), 8e-6 F(4x4) at 256 channels).
    func testWinogradAccuracyOnAnSDSizedLayer() throws {
        let channels = 96, size = 48
        let x = unitVarianceNoise([1, channels, size, size], seed: 1)
        let weight = unitVarianceNoise([channels, channels, 3, 3], seed: 2).scaled(
            by: 1 / (Float(channels * 9)).squareRoot())
        ConvolutionSettings.winograd = .off
        let reference = try x.conv2d(weight: weight, padding: 1)
        for (algorithm, bound) in [(WinogradTiles.f2x2, Float(2e-6)), (.f4x4, 2e-5)] {
            ConvolutionSettings.winograd = algorithm
            assertClose(try x.conv2d(weight: weight, padding: 1), reference, tolerance: bound, "\(algorithm)")
        }
    }

    /// A layer's kept transform gives PyTorch's result on every call: the first call transforms into
    /// the cache, the later ones read it (F(2x2) and F(4x4) kept side by side for one weight).
    func testKeptWinogradTransformMatchesPyTorch() throws {
        let budget = WinogradWeightCache.budgetBytes
        defer { WinogradWeightCache.budgetBytes = budget }
        WinogradWeightCache.budgetBytes = 1 << 30
        for algorithm in [WinogradTiles.f2x2, .f4x4] {
            ConvolutionSettings.winograd = algorithm
            for name in ["conv3x3_wide", "conv3x3_winograd_odd"] {
                let cache = WinogradWeightCache()
                let before = WinogradWeightCache.usedBytes
                for call in 1...2 {
                    let result = try TorchFixtures.tensor(name, "x").conv2d(
                        weight: TorchFixtures.tensor(name, "weight"), bias: TorchFixtures.tensor(name, "bias"),
                        stride: 1, padding: .uniform(1), winogradCache: cache)
                    assertClose(
                        result, try TorchFixtures.expected(name), tolerance: Tolerance.reduction,
                        "\(name) (\(algorithm), call \(call))")
                }
                let weight = try TorchFixtures.tensor(name, "weight")
                let planes = algorithm == .f4x4 ? 36 : 16
                XCTAssertEqual(
                    WinogradWeightCache.usedBytes - before, planes * weight.shape[0] * weight.shape[1] * 4,
                    "\(name) (\(algorithm)): the kept transform's bytes")
            }
        }
    }

    /// The budget bounds what all caches keep; a freed cache gives its bytes back.
    func testWinogradCacheBudget() throws {
        let budget = WinogradWeightCache.budgetBytes
        defer { WinogradWeightCache.budgetBytes = budget }
        ConvolutionSettings.winograd = .f2x2
        let x = unitVarianceNoise([1, 16, 32, 32], seed: 3), weight = unitVarianceNoise([16, 16, 3, 3], seed: 4)
        let expected = try x.conv2d(weight: weight, padding: 1)
        let start = WinogradWeightCache.usedBytes
        WinogradWeightCache.budgetBytes = start + 16 * 16 * 16 * 4  // room for one layer's transform
        var first: WinogradWeightCache? = WinogradWeightCache()
        let second = WinogradWeightCache()
        for cache in [first!, second] {
            let y = try x.conv2d(weight: weight, bias: nil, stride: 1, padding: .uniform(1), winogradCache: cache)
            XCTAssertEqual(y.scalars, expected.scalars)  // the same transform, kept or not
        }
        XCTAssertEqual(WinogradWeightCache.usedBytes - start, 16 * 16 * 16 * 4, "the second layer found no room")
        first = nil
        XCTAssertEqual(WinogradWeightCache.usedBytes, start, "a freed layer gives its transform's bytes back")
        _ = try x.conv2d(weight: weight, bias: nil, stride: 1, padding: .uniform(1), winogradCache: second)
        XCTAssertEqual(WinogradWeightCache.usedBytes - start, 16 * 16 * 16 * 4, "now the second layer keeps its own")
    }

    /// Maps under 32 wide whose F(2x2) planes are thin products (a 1 MB weight, at most 64
    /// tiles) take Winograd when the layer's transform is kept, and match im2col (itself matched
    /// to PyTorch above); with no room in the budget they run im2col itself.
    func testNarrowMapsTakeWinogradWhenTheTransformIsKept() throws {
        let budget = WinogradWeightCache.budgetBytes
        defer { WinogradWeightCache.budgetBytes = budget }
        let channels = 512
        // Two images; 13x17 leaves partial tiles on both edges (7 x 9 = 63 tiles).
        let x = unitVarianceNoise([2, channels, 13, 17], seed: 5)
        let weight = unitVarianceNoise([channels, channels, 3, 3], seed: 6).scaled(
            by: 1 / (Float(channels * 9)).squareRoot())
        let bias = unitVarianceNoise([channels], seed: 7)
        func convolved(_ cache: WinogradWeightCache?) throws -> Tensor {
            try x.conv2d(weight: weight, bias: bias, stride: 1, padding: .uniform(1), winogradCache: cache)
        }
        ConvolutionSettings.winograd = .off
        let reference = try convolved(nil)
        ConvolutionSettings.winograd = .automatic
        let start = WinogradWeightCache.usedBytes
        WinogradWeightCache.budgetBytes = start
        let cache = WinogradWeightCache()
        XCTAssertEqual(try convolved(cache).scalars, reference.scalars, "no room: im2col")
        XCTAssertEqual(WinogradWeightCache.usedBytes, start)
        WinogradWeightCache.budgetBytes = start + 16 * channels * channels * 4
        for call in 1...2 {
            let result = try convolved(cache)
            assertClose(result, reference, tolerance: 5e-6, "kept F(2x2), call \(call)")
            XCTAssertNotEqual(result.scalars, reference.scalars, "call \(call) took im2col")
        }
        XCTAssertEqual(
            WinogradWeightCache.usedBytes - start, 16 * channels * channels * 4, "the kept transform's bytes")
    }

    private func compareFixtures(_ label: String) throws {
        for name in [
            "conv3x3", "conv3x3_stride2", "conv1x1", "conv3x3_wide", "conv3x3_winograd_odd", "conv_vae_down",
            "conv7x7_nopad",
            "conv3x3_deep", "conv1x1_deep",
        ] {
            let pad: [Int] = TorchFixtures.parameter(name, "padding")
            let stride: Int = TorchFixtures.parameter(name, "stride")
            let result = try TorchFixtures.tensor(name, "x").conv2d(
                weight: TorchFixtures.tensor(name, "weight"), bias: TorchFixtures.tensor(name, "bias"),
                stride: stride, padding: Padding2D(top: pad[0], bottom: pad[1], left: pad[2], right: pad[3]))
            assertClose(result, try TorchFixtures.expected(name), tolerance: Tolerance.reduction, "\(name) (\(label))")
        }
    }

    /// The deep cases' batch of two shares one product (images side by side); one image alone
    /// accumulates onto the bias instead.
    func testThinProductOnLargeWeightOneImage() throws {
        let name = "conv3x3_deep"
        let first = try TorchFixtures.tensor(name, "x").slice(axis: 0, start: 0, length: 1)
        let result = try first.conv2d(
            weight: TorchFixtures.tensor(name, "weight"), bias: TorchFixtures.tensor(name, "bias"), padding: 1)
        assertClose(
            result, try TorchFixtures.expected(name).slice(axis: 0, start: 0, length: 1),
            tolerance: Tolerance.reduction, name)
    }

    func testWithoutBias() throws {
        let name = "conv3x3"
        let x = try TorchFixtures.tensor(name, "x"), w = try TorchFixtures.tensor(name, "weight")
        let bias = try TorchFixtures.tensor(name, "bias").reshaped([1, -1, 1, 1])
        let result = try x.conv2d(weight: w, padding: 1).adding(bias)
        assertClose(result, try TorchFixtures.expected(name), tolerance: Tolerance.reduction, name)
    }

    func testChannelMismatchNamesShapes() {
        let x = Tensor(shape: [1, 3, 8, 8]), w = Tensor(shape: [4, 5, 3, 3])
        XCTAssertThrowsError(try x.conv2d(weight: w, padding: 1)) { error in
            XCTAssertTrue("\(error)".contains("[4, 5, 3, 3]"), "\(error)")
        }
    }
}

/// Uniform noise of variance 1 from a fixed linear congruential sequence.
private func unitVarianceNoise(_ shape: [Int], seed: UInt64) -> Tensor {
    var state = seed &* 0x9E37_79B9_7F4A_7C15
    return Tensor(shape: shape) { out in
        for i in 0..<out.count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            out[i] = (Float(state >> 40) / Float(1 << 24) - 0.5) * 2 * Float(3).squareRoot()
        }
    }
}
