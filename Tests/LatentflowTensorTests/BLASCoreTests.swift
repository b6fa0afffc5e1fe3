import XCTest

@testable import LatentflowTensor

/// OpenBLAS's kernel choice: a CPU it does not know must not run its generic SSE3 kernels.
final class BLASCoreTests: XCTestCase {
    /// On a CPU with AVX2+FMA (every x86-64 CPU the build targets), products never run on
    /// `Prescott`: Debian's OpenBLAS 0.3.21 picks it for Emerald Rapids, where this fails
    /// without the replacement.
    func testProductsRunOnKernelsForThisCPU() throws {
        try XCTSkipUnless(BLASCore.cpuHasAVX2AndFMA, "not an x86-64 CPU with AVX2 and FMA")
        try XCTSkipIf(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] != nil, "OPENBLAS_CORETYPE chooses")
        let a = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let product = try a.matmul(try Tensor(shape: [3, 1], scalars: [1, 1, 1]))
        XCTAssertEqual(product.scalars, [6, 15])
        XCTAssertNotEqual(BLASCore.name.lowercased(), "prescott")
        if let replacement = BLASCore.replacement {
            XCTAssertEqual(replacement, BLASCore.cpuHasAVX512 ? "SkylakeX" : "Haswell")
        }
    }

    func testOnlyTheGenericCoreIsReplacedAndTheUsersChoiceStands() {
        func choice(_ core: String, user: String? = nil, avx512: Bool, avx2: Bool) -> String? {
            BLASCore.replacement(for: core, userSetting: user, hasAVX512: avx512, hasAVX2AndFMA: avx2)
        }
        XCTAssertEqual(choice("Prescott", avx512: true, avx2: true), "SkylakeX")
        XCTAssertEqual(choice("PRESCOTT", avx512: false, avx2: true), "Haswell")
        XCTAssertNil(choice("Prescott", avx512: false, avx2: false))
        XCTAssertNil(choice("Prescott", user: "Prescott", avx512: true, avx2: true))
        XCTAssertNil(choice("Haswell", avx512: true, avx2: true))
        XCTAssertNil(choice("SkylakeX", avx512: true, avx2: true))
    }
}
