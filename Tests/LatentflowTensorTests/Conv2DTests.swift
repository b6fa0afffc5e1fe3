import LatentflowTensor
import XCTest

final class Conv2DTests: XCTestCase {
    func testAgainstPyTorch() throws {
        for name in ["conv3x3", "conv3x3_stride2", "conv1x1", "conv3x3_wide", "conv3x3_winograd_odd", "conv_vae_down", "conv7x7_nopad"] {
            let pad: [Int] = TorchFixtures.parameter(name, "padding")
            let stride: Int = TorchFixtures.parameter(name, "stride")
            let result = try TorchFixtures.tensor(name, "x").conv2d(
                weight: TorchFixtures.tensor(name, "weight"), bias: TorchFixtures.tensor(name, "bias"),
                stride: stride, padding: Padding2D(top: pad[0], bottom: pad[1], left: pad[2], right: pad[3]))
            assertClose(result, try TorchFixtures.expected(name), tolerance: Tolerance.reduction, name)
        }
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
