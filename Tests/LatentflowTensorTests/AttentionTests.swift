import LatentflowTensor
import XCTest

final class AttentionTests: XCTestCase {
    func testAgainstScaledDotProductAttention() throws {
        for name in [
            "attention_cross", "attention_causal", "attention_tiled", "attention_sd_blocks", "attention_sd_causal",
        ] {
            let heads: Int = TorchFixtures.parameter(name, "heads")
            let causal: Bool = TorchFixtures.parameter(name, "causal")
            let result = try TorchFixtures.tensor(name, "q").attention(
                key: TorchFixtures.tensor(name, "k"), value: TorchFixtures.tensor(name, "v"), heads: heads,
                causal: causal)
            assertClose(result, try TorchFixtures.expected(name), tolerance: Tolerance.reduction, name)
        }
    }

    func testHeadsMustDivideWidth() {
        let q = Tensor(shape: [1, 4, 10])
        XCTAssertThrowsError(try q.attention(key: q, value: q, heads: 3))
    }
}
