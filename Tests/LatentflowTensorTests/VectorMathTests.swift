import Foundation
import LatentflowTensor
import XCTest

final class VectorMathTests: XCTestCase {
    /// The softmax's base-2 exponential against libm's double-precision exp2, in float ulps,
    /// over the whole range it is fed (scores minus the row maximum), and clamped below -125.
    func testExp2WithinOneAndAQuarterUlpOfLibm() {
        var worst = 0.0, worstAt: Float = 0
        var x: Float = 0
        while x > -140 {
            let lanes = SIMD8<Float>((0..<8).map { x - Float($0) * 1.3e-3 })
            let result = vexp2NonPositive(lanes)
            for lane in 0..<8 {
                let reference = exp2(Double(max(lanes[lane], -125)))
                let ulps = abs(Double(result[lane]) - reference) / Double(Float(reference).ulp)
                if ulps > worst { (worst, worstAt) = (ulps, lanes[lane]) }
            }
            x -= 0.000_731 * (1 - x)  // dense near 0, where softmax weights matter most
        }
        XCTAssertLessThan(worst, 1.25, "largest error \(worst) ulp at x = \(worstAt)")
        XCTAssertEqual(vexp2NonPositive(SIMD8(repeating: 0)), SIMD8(repeating: 1))
        XCTAssertEqual(vexp2NonPositive(SIMD8(repeating: -3)), SIMD8(repeating: 0.125))
    }
}
