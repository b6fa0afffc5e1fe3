import LatentflowTensor
import XCTest

final class HalfPrecisionTests: XCTestCase {
    /// The fixtures hold torch's `x.half()` / `x.bfloat16()`: narrowing ourselves must give the
    /// same bits, and widening them must give the same floats.
    func testNarrowingMatchesTorchBitForBit() throws {
        let x = try TorchFixtures.tensor("float16", "x")
        let half = try TorchFixtures.file.rawBytes("float16.expected")
        XCTAssertEqual(x.float16Bits, Array(half.bindMemory(to: UInt16.self)))
        let brain = try TorchFixtures.file.rawBytes("bfloat16.expected")
        XCTAssertEqual(x.bfloat16Bits, Array(brain.bindMemory(to: UInt16.self)))
    }

    func testWideningIsExact() throws {
        let widened = try TorchFixtures.expected("float16")
        let roundTrip = try Tensor(shape: widened.shape, float16Bits: widened.float16Bits)
        XCTAssertEqual(roundTrip, widened)
        let widenedB = try TorchFixtures.expected("bfloat16")
        XCTAssertEqual(try Tensor(shape: widenedB.shape, bfloat16Bits: widenedB.bfloat16Bits), widenedB)
    }
}
