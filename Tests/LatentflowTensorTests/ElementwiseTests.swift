import LatentflowTensor
import XCTest

final class ElementwiseTests: XCTestCase {
    func testActivations() throws {
        let x = try TorchFixtures.tensor("silu", "x")
        assertClose(x.silu(), try TorchFixtures.expected("silu"), tolerance: Tolerance.elementwise, "silu")
        assertClose(x.gelu(), try TorchFixtures.expected("gelu"), tolerance: Tolerance.elementwise, "gelu")
        assertClose(
            x.quickGELU(), try TorchFixtures.expected("quick_gelu"), tolerance: Tolerance.elementwise, "quick_gelu")
        assertClose(x.sigmoid(), try TorchFixtures.expected("sigmoid"), tolerance: Tolerance.elementwise, "sigmoid")
        assertClose(x.clamped(min: -1, max: 1), try TorchFixtures.expected("clamp"), tolerance: 0, "clamp")
        assertClose(
            x.scaled(by: 0.18215, adding: 0.5), try TorchFixtures.expected("scale"), tolerance: Tolerance.elementwise,
            "scale")
    }

    func testBroadcastingArithmetic() throws {
        let ops: [String: (Tensor, Tensor) throws -> Tensor] = [
            "add_channel_bias": { try $0.adding($1) }, "mul_per_sample": { try $0.multiplying($1) },
            "div_last_dim": { try $0.dividing($1) }, "sub_outer": { try $0.subtracting($1) },
            "add_same": { try $0.adding($1) },
        ]
        for (name, op) in ops {
            let result = try op(TorchFixtures.tensor(name, "a"), TorchFixtures.tensor(name, "b"))
            assertClose(result, try TorchFixtures.expected(name), tolerance: Tolerance.elementwise, name)
        }
    }

    func testIncompatibleBroadcastIsAnError() {
        XCTAssertThrowsError(try Tensor(shape: [2, 3]).adding(Tensor(shape: [4]))) { error in
            XCTAssertEqual("\(error)", "shape mismatch: cannot broadcast [2, 3] with [4]")
        }
    }
}
