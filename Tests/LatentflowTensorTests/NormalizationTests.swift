import LatentflowTensor
import XCTest

final class NormalizationTests: XCTestCase {
    func testGroupNorm() throws {
        for (name, fuse) in [("group_norm", false), ("group_norm_silu", true)] {
            let groups: Int = TorchFixtures.parameter(name, "groups")
            let eps: Double = TorchFixtures.parameter(name, "eps")
            let result = try TorchFixtures.tensor(name, "x").groupNorm(
                groups: groups, weight: TorchFixtures.tensor(name, "weight"), bias: TorchFixtures.tensor(name, "bias"),
                epsilon: Float(eps), fuseSiLU: fuse)
            assertClose(result, try TorchFixtures.expected(name), tolerance: Tolerance.reduction, name)
        }
    }

    func testLayerNorm() throws {
        let name = "layer_norm"
        let result = try TorchFixtures.tensor(name, "x").layerNorm(
            weight: TorchFixtures.tensor(name, "weight"), bias: TorchFixtures.tensor(name, "bias"))
        assertClose(result, try TorchFixtures.expected(name), tolerance: Tolerance.reduction, name)
    }

    func testSoftmax() throws {
        let result = try TorchFixtures.tensor("softmax", "x").softmax()
        assertClose(result, try TorchFixtures.expected("softmax"), tolerance: Tolerance.reduction, "softmax")
    }

    func testGroupCountMustDivideChannels() {
        XCTAssertThrowsError(try Tensor(shape: [1, 30, 2, 2]).groupNorm(groups: 32, weight: nil, bias: nil))
    }
}
