import LatentflowTensor
import XCTest

final class ShapeOpsTests: XCTestCase {
    func testConcat() throws {
        let result = try Tensor.concat(
            [TorchFixtures.tensor("concat", "a"), TorchFixtures.tensor("concat", "b")], axis: 1)
        assertClose(result, try TorchFixtures.expected("concat"), tolerance: 0, "concat")
    }

    func testPermuteSlicePad() throws {
        let x = try TorchFixtures.tensor("permute", "x")
        assertClose(try x.permuted([0, 2, 3, 1]), try TorchFixtures.expected("permute"), tolerance: 0, "permute")
        assertClose(
            try x.slice(axis: 1, start: 1, length: 2), try TorchFixtures.expected("slice"), tolerance: 0, "slice")
        let padded = try x.padded(Padding2D(top: 0, bottom: 3, left: 2, right: 1))
        assertClose(padded, try TorchFixtures.expected("pad"), tolerance: 0, "pad")
    }

    func testChunkAndReshape() throws {
        let x = try Tensor(shape: [2, 6], scalars: (0..<12).map(Float.init))
        let parts = try x.chunked(3, axis: 1)
        XCTAssertEqual(parts.map(\.scalars), [[0, 1, 6, 7], [2, 3, 8, 9], [4, 5, 10, 11]])
        XCTAssertEqual(try x.reshaped([3, -1]).shape, [3, 4])
        XCTAssertThrowsError(try x.reshaped([5, -1]))
        XCTAssertThrowsError(try x.chunked(5, axis: 1))
    }
}
