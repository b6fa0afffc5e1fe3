import LatentflowTensor
import XCTest

final class AttentionTests: XCTestCase {
    /// Both kernel widths (AVX2's 8 lanes, AVX-512's 16 where the CPU has them) against PyTorch:
    /// the fixtures' head widths (6 to 72) cover the 16-lane kernels' 32-, 16- and 8-column parts,
    /// rows that do not fill a group of six, several key blocks and the causal mask.
    func testAgainstScaledDotProductAttention() throws {
        defer { AttentionSettings.width = .automatic }
        for width in AttentionKernelWidth.allCases where width != .avx512 || AttentionSettings.avx512Available {
            AttentionSettings.width = width
            try compareWithPyTorch(width)
        }
    }

    private func compareWithPyTorch(_ width: AttentionKernelWidth) throws {
        for name in [
            "attention_cross", "attention_causal", "attention_tiled", "attention_sd_blocks", "attention_sd_causal",
        ] {
            let heads: Int = TorchFixtures.parameter(name, "heads")
            let causal: Bool = TorchFixtures.parameter(name, "causal")
            let result = try TorchFixtures.tensor(name, "q").attention(
                key: TorchFixtures.tensor(name, "k"), value: TorchFixtures.tensor(name, "v"), heads: heads,
                causal: causal)
            assertClose(result, try TorchFixtures.expected(name), tolerance: Tolerance.reduction, "\(name), \(width)")
        }
    }

    func testHeadsMustDivideWidth() {
        let q = Tensor(shape: [1, 4, 10])
        XCTAssertThrowsError(try q.attention(key: q, value: q, heads: 3))
    }
}
