import Foundation
import LatentflowGraph
import LatentflowIO
import LatentflowNodes
import XCTest

/// The `prompt` an output embeds is the prompt as validated: ComfyUI's `validate_inputs` writes
/// `int(v)`, `float(v)`, `str(v)`, `bool(v)` back, so a FLOAT given as `2` is embedded as `2.0`. The
/// expected text is ComfyUI v0.3.64's own `validate_prompt` result
/// (`scripts/make_validated_prompt_fixtures.py`).
final class ValidatedPromptTests: XCTestCase {
    func testEmbeddedPromptHasTheValidatedConstants() async throws {
        let url = Bundle.module.url(forResource: "validated_prompt", withExtension: "json", subdirectory: "Fixtures")!
        let fixture = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: String]
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("lf-prompt-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let executor = Executor(
            registry: try NodeRegistry(packs: [BuiltinNodes.self]),
            environment: ExecutionEnvironment(outputDirectory: output))

        let workflow = try Workflow(apiJSON: JSONValue.parse(fixture["prompt"]!))
        _ = try await executor.run(workflow)

        let saved = output.appendingPathComponent("latents/validated_00001_.latent")
        let embedded = try SafeTensorsFile(path: saved.path).metadata["prompt"]
        XCTAssertEqual(embedded, fixture["validated"])
        XCTAssertNotEqual(fixture["prompt"], fixture["validated"], "the fixture has constants to convert")
    }
}
