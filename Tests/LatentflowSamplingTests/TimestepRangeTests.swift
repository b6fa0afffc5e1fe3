import LatentflowSampling
import LatentflowTensor
import XCTest

/// ConditioningSetTimestepRange as sampling sees it: ComfyUI skips entries outside their range.
final class TimestepRangeGuidanceTests: XCTestCase {
    /// ComfyUI `ModelSamplingDiscrete().percent_to_sigma` for SD1's schedule (torch 2.13, CPU).
    func testPercentToSigmaMatchesComfyUI() {
        let sampling = ModelSampling()
        let expected: [(Double, Float)] = [
            (0, 999_999_999.9), (0.25, 4.086081027984619), (0.5, 1.6155803203582764),
            (0.7, 0.8318837285041809), (0.999, 0.041300032287836075), (1, 0),
        ]
        for (percent, sigma) in expected {
            XCTAssertEqual(
                sampling.percentToSigma(percent), sigma, accuracy: sigma * 1e-6, "percent \(percent)")
        }
    }

    func testEntriesOutsideTheirRangeAreSkipped() throws {
        let x = Tensor(shape: [1, 1, 2, 2])
        func constant(_ value: Float, start: Float? = nil, end: Float? = nil) -> CFGGuidance.Entry {
            CFGGuidance.Entry(area: nil, strength: 1, startSigma: start, endSigma: end) { x, _ in
                Tensor(shape: x.shape, repeating: value)
            }
        }
        let guidance = CFGGuidance(
            positive: [constant(1, start: 5), constant(3, end: 2)], negative: [constant(0)], cfg: 1)
        // σ 10: only the second; σ 3: both (averaged); σ 1: only the first.
        XCTAssertEqual(try guidance.denoise(x, sigma: 10).scalars, [3, 3, 3, 3])
        XCTAssertEqual(try guidance.denoise(x, sigma: 3).scalars, [2, 2, 2, 2])
        XCTAssertEqual(try guidance.denoise(x, sigma: 1).scalars, [1, 1, 1, 1])
        // Neither active: the side predicts 0, as ComfyUI's zero-initialised sums do.
        let none = CFGGuidance(positive: [constant(1, start: 0.5)], negative: [constant(0)], cfg: 1)
        XCTAssertEqual(try none.denoise(x, sigma: 1).scalars, [0, 0, 0, 0])
    }
}
