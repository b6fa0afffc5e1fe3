import LatentflowTensor
import XCTest

final class GEMMTests: XCTestCase {
    func testBatchedMatmul() throws {
        let name = "matmul_batched"
        let result = try TorchFixtures.tensor(name, "a").matmul(TorchFixtures.tensor(name, "b"))
        assertClose(result, try TorchFixtures.expected(name), tolerance: Tolerance.reduction, name)
    }

    func testMatmulWithSharedMatrix() throws {
        let name = "matmul_shared"
        let result = try TorchFixtures.tensor(name, "a").matmul(TorchFixtures.tensor(name, "b"))
        assertClose(result, try TorchFixtures.expected(name), tolerance: Tolerance.reduction, name)
    }

    func testMatmulTransposed() throws {
        let name = "matmul_transposed"
        let result = try TorchFixtures.tensor(name, "a").matmul(TorchFixtures.tensor(name, "b"), transposeOther: true)
        assertClose(result, try TorchFixtures.expected(name), tolerance: Tolerance.reduction, name)
    }

    func testLinear() throws {
        for name in ["linear", "linear_large_nobias", "linear_thin"] {
            let bias = name == "linear_large_nobias" ? nil : try TorchFixtures.tensor(name, "bias")
            let result = try TorchFixtures.tensor(name, "x").linear(
                weight: TorchFixtures.tensor(name, "weight"), bias: bias)
            assertClose(result, try TorchFixtures.expected(name), tolerance: Tolerance.reduction, name)
        }
    }

    func testShapeMismatchIsAnError() {
        let a = Tensor(shape: [2, 3]), b = Tensor(shape: [4, 5])
        XCTAssertThrowsError(try a.matmul(b)) { error in
            XCTAssertTrue("\(error)".contains("[2, 3]") && "\(error)".contains("[4, 5]"), "\(error)")
        }
        XCTAssertThrowsError(try a.linear(weight: Tensor(shape: [4, 2])))
    }
}
