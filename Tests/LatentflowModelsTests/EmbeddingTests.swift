import Foundation
import LatentflowIO
import LatentflowModels
import LatentflowTensor
import XCTest

/// Textual-inversion embeddings in prompts (`embedding:NAME`), with ComfyUI's parsing rules.
final class EmbeddingTests: XCTestCase {
    let tokenizer = CLIPTokenizer.shared

    func testEmbeddingTakesOneSlotPerVectorAndLeftoverTextIsKept() throws {
        let vectors = try Tensor(shape: [2, 4], scalars: [1, 2, 3, 4, 5, 6, 7, 8])
        var missing: [String] = []
        let chunks = tokenizer.tokenizeWithWeights(
            "a photo of embedding:myemb, a (dog:1.5) embedding:nope",
            embeddings: { $0 == "myemb" ? vectors : nil }, missing: { missing.append($0) })
        let slots = chunks[0]
        let plain = tokenizer.tokenizeWithWeights("a photo of")[0]
        XCTAssertEqual(Array(slots.prefix(4)).map(\.id), Array(plain.prefix(4)).map(\.id))  // BOS a photo of
        XCTAssertEqual(slots[4].embedding, [1, 2, 3, 4])
        XCTAssertEqual(slots[5].embedding, [5, 6, 7, 8])
        // "myemb," is not a name; without the comma it is, and the comma is tokenized after it.
        XCTAssertEqual(slots[6].id, tokenizer.encode(",")[0])
        XCTAssertEqual(slots.filter { $0.weight == 1.5 }.map(\.id), tokenizer.encode("dog"))
        XCTAssertEqual(missing, ["nope"], "an unknown embedding is reported and its text dropped")
        XCTAssertEqual(slots.filter { $0.embedding != nil }.count, 2)
    }

    /// A vector equal to a token's own embedding row gives exactly that token's encoding.
    func testVectorsReplaceTheTokenEmbedding() throws {
        let models = try StableDiffusionCheckpoint.load(
            path: ModelParityTests.fixture("tiny_ldm"), roundCLIPToFloat16: false)
        let text = try XCTUnwrap(models.textModel)
        let table = try XCTUnwrap(models.textWeights["embeddings.token_embedding.weight"]).tensor()
        let width = text.config.width
        let ids = [406, 12, 7, 407] + Array(repeating: 407, count: 73)
        var slots = ids.map { WeightedToken(id: $0, weight: 1) }
        slots[2] = WeightedToken(id: 407, weight: 1, embedding: Array(table.scalars[(7 * width)..<(8 * width)]))
        XCTAssertEqual(try text.encode([slots]), try text.encode([ids]))
    }
}
