import Foundation
import LatentflowModels
import XCTest

/// Token ids and weights against ComfyUI's own `SD1Tokenizer.tokenize_with_weights`.
final class TokenizerTests: XCTestCase {
    struct Case: Decodable {
        let prompt: String
        let chunks: [[[Double]]]
    }

    func testMatchesComfyUIExactly() throws {
        let url = Bundle.module.url(forResource: "tokens", withExtension: "json", subdirectory: "Fixtures")!
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: url))
        XCTAssertEqual(cases.count, 8)
        for c in cases {
            let chunks = CLIPTokenizer.shared.tokenizeWithWeights(c.prompt)
            XCTAssertEqual(chunks.map { $0.map(\.id) }, c.chunks.map { $0.map { Int($0[0]) } }, "ids for '\(c.prompt)'")
            XCTAssertEqual(
                chunks.map { $0.map(\.weight) }, c.chunks.map { $0.map { $0[1] } }, "weights for '\(c.prompt)'")
        }
    }
}
