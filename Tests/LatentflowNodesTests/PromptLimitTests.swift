import Latentflow
import LatentflowModels
import LatentflowTestSupport
import XCTest

/// Issue 24, fault 11: a 10 MB prompt or 100,000 nested parentheses kept the tokenizer busy for
/// over a minute (and the nesting recursed once per level). Both are refused with a clear error,
/// at validation for a constant prompt and by the encoder for any other.
final class PromptLimitTests: XCTestCase {
    func testLimitsAreFoundInLinearTime() {
        let nested = String(repeating: "(", count: 100_000) + "fox" + String(repeating: ")", count: 100_000)
        XCTAssertEqual(
            PromptLimits.problem(String(repeating: "a", count: 10_000_000)),
            "the prompt is 10000000 characters long; the limit is 100000")
        // Over the length limit too: the length is reported first.
        XCTAssertNotNil(PromptLimits.problem(nested))
        let deep = String(repeating: "(", count: 101) + "fox" + String(repeating: ")", count: 101)
        XCTAssertEqual(PromptLimits.problem(deep), "the prompt nests parentheses 101 deep; the limit is 100")
        let deepest = String(repeating: "(", count: 100) + "fox" + String(repeating: ")", count: 100)
        XCTAssertNil(PromptLimits.problem(deepest))
        // Escaped parentheses are text, not nesting (ComfyUI's escape_important).
        XCTAssertNil(PromptLimits.problem(String(repeating: "\\(", count: 500) + "fox"))
        XCTAssertNil(PromptLimits.problem("a (red:1.2) fox, ((snow)), \\(literal\\)"))
    }

    func testTheDeepestAllowedPromptStillTokenizesAsComfyUIDoes() {
        let deepest = String(repeating: "(", count: 100) + "fox" + String(repeating: ")", count: 100)
        let chunks = CLIPTokenizer.shared.tokenizeWithWeights(deepest)
        // 1.1^100, the weight ComfyUI's token_weights gives a word 100 levels deep.
        let weights = chunks[0].filter { $0.weight != 1 }.map(\.weight)
        XCTAssertEqual(weights.count, 1)
        XCTAssertEqual(weights[0], pow(1.1, 100), accuracy: pow(1.1, 100) * 1e-12)
    }

    func testValidationRefusesAConstantPromptPastTheLimits() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let engine = try Engine(paths: ModelPaths(baseDirectory: repository))
        var loaded = try engine.load(repository.appendingPathComponent("workflows/lcm-tiny.json"))
        let index = try XCTUnwrap(loaded.workflow.nodes.firstIndex { $0.id == "3" })
        loaded.workflow.nodes[index].set("text", .constant(.string(String(repeating: "(", count: 5_000) + "fox")))
        let errors = engine.validate(loaded).errors
        XCTAssertEqual(errors.count, 1, "\(errors)")
        let error = try XCTUnwrap(errors.first)
        XCTAssertEqual(error.kind, .customValidationFailed)
        XCTAssertEqual(error.location?.nodeId, "3")
        XCTAssertTrue(error.description.contains("nests parentheses 5000 deep; the limit is 100"), error.description)
    }

    func testTheEncoderRefusesAPromptPastTheLimits() throws {
        let model = CLIPTextModel(RandomWeights(seed: 1).store(source: "tiny CLIP").root, config: TinyModelFactory.clip)
        let encoder = WeightedPromptEncoder(model: model, lastLayer: -1)
        XCTAssertThrowsError(try encoder.encode(String(repeating: "ab ", count: 40_000))) { error in
            XCTAssertEqual("\(error)", "the prompt is 120000 characters long; the limit is 100000")
        }
    }
}
