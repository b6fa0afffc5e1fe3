import LatentflowTensor
import XCTest

@testable import LatentflowSampling

/// EasyCache's step bookkeeping with a stub UNet (the numerics against ComfyUI's own node are
/// EasyCacheParityTests'): which calls reach the model, and what a skipped call returns.
final class EasyCacheTests: XCTestCase {
    /// Two entries (ids 0 and 1, as a positive and a negative) per step; entry k's "UNet" returns
    /// x·(1 + k) + 0.5, and every call is counted.
    func run(_ cache: EasyCache, sigmas: [Float], calls: inout Int) throws -> [[Tensor]] {
        var outputs: [[Tensor]] = []
        for (step, sigma) in sigmas.enumerated() {
            try cache.beginStep()
            // The input drifts a little from step to step, as a sampler's does.
            let x = Tensor(shape: [1, 1, 8, 8], repeating: 1 + 0.01 * Float(step))
            var step: [Tensor] = []
            for entry in 0..<2 {
                step.append(
                    try cache.forward(entry: entry, input: x, sigma: sigma) { input in
                        calls += 1
                        return input.scaled(by: Float(1 + entry), adding: 0.5)
                    })
            }
            outputs.append(step)
        }
        return outputs
    }

    func testASkippedStepAddsEveryEntrysDifferenceAndCallsNoModel() throws {
        let cache = EasyCache(threshold: 3, startSigma: 100, endSigma: 0)
        var calls = 0
        let outputs = try run(cache, sigmas: [10, 9, 8], calls: &calls)
        // Steps 1 and 2 learn the change rate; step 3 is under the threshold and skipped.
        XCTAssertEqual(cache.skippedSteps, 1)
        XCTAssertEqual(calls, 4)
        // Step 2's differences (output − input): 0.5 for entry 0, x + 0.5 for entry 1, at x = 1.01.
        let x3: Float = 1.02, differences: Float = 0.5 + (1.01 + 0.5)
        for entry in 0..<2 {
            for value in outputs[2][entry].scalars { XCTAssertEqual(value, x3 + differences, accuracy: 1e-6) }
        }
    }

    func testStepsAtOrBelowTheEndSigmaAlwaysCallTheModel() throws {
        let cache = EasyCache(threshold: 3, startSigma: 100, endSigma: 9)
        var calls = 0
        _ = try run(cache, sigmas: [10, 9, 8, 7], calls: &calls)
        XCTAssertEqual(cache.skippedSteps, 0)
        XCTAssertEqual(calls, 8)
    }

    func testStepsAboveTheStartSigmaAreNeverSkipped() throws {
        let cache = EasyCache(threshold: 3, startSigma: 5, endSigma: 0)
        var calls = 0
        _ = try run(cache, sigmas: [10, 9, 8, 7], calls: &calls)
        XCTAssertEqual(cache.skippedSteps, 0)
        XCTAssertEqual(calls, 8)
    }
}
