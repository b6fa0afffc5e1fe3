import LatentflowTensor
import XCTest

final class AllocatorPolicyTests: XCTestCase {
    /// The policy only works if the C shim reaches glibc's mallopt; a build that compiled its
    /// fallback (as one did, when `__GLIBC__` was tested before any libc header) returns false.
    func testGlibcTakesThePolicy() throws {
        #if os(Linux) && canImport(Glibc)
            XCTAssertTrue(AllocatorPolicy.keepFreedBlocksForReuse())
            XCTAssertTrue(AllocatorPolicy.keepFreedBlocksForReuse(), "a second call reports the first one's outcome")
        #else
            throw XCTSkip("mallopt is glibc's")
        #endif
    }
}
