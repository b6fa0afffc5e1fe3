import LatentflowIO
import LatentflowTensor
import XCTest

/// Row blocks of a pickled tensor (how a pickled SD2 checkpoint's fused OpenCLIP q/k/v
/// projection is split) read the same values as slicing the whole tensor, whatever its strides.
final class TorchTensorRowsTests: XCTestCase {
    func testRowsOfContiguousAndStridedViewsMatchTheWholeTensor() throws {
        let file = try TorchCheckpointFile(path: TorchPickleTests.fixture("torch_zip.pt"))
        for key in ["f32", "transposed", "slice", "every_other"] {
            let info = try file.info(key)
            let whole = try file.tensor(key)
            let rowSize = whole.count / info.shape[0]
            for range in [0..<1, 1..<info.shape[0], 0..<info.shape[0]] {
                let part = try XCTUnwrap(info.rows(range), key)
                XCTAssertEqual(part.shape, [range.count] + info.shape.dropFirst(), key)
                XCTAssertEqual(
                    try file.tensor(part).scalars,
                    Array(whole.scalars[(range.lowerBound * rowSize)..<(range.upperBound * rowSize)]),
                    "\(key) rows \(range)")
            }
            XCTAssertNil(info.rows(0..<(info.shape[0] + 1)), key)
        }
    }
}
