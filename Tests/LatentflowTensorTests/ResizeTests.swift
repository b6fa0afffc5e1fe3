import LatentflowTensor
import XCTest

final class ResizeTests: XCTestCase {
    func testMatchesInterpolate() throws {
        for mode in ResizeMode.allCases {
            for (h, w) in [(13, 5), (3, 4), (14, 18)] {
                let name = "resize_\(mode.rawValue)_\(h)x\(w)"
                let result = try TorchFixtures.tensor(name, "x").resized(height: h, width: w, mode: mode)
                assertClose(result, try TorchFixtures.expected(name), tolerance: Tolerance.elementwise, name)
            }
        }
    }
}
