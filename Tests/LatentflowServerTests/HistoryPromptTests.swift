import Foundation
import HummingbirdTesting
import Latentflow
import XCTest

@testable import LatentflowServer

/// `/queue` and `/history` echo the prompt as validated: ComfyUI's `validate_inputs` writes
/// `int(v)`, `float(v)`, `str(v)`, `bool(v)` into the prompt dict that `POST /prompt` then queues.
/// The expected text is ComfyUI v0.3.64's own `validate_prompt` result, the fixture
/// ValidatedPromptTests checks the embedded prompt against (`scripts/make_validated_prompt_fixtures.py`).
final class HistoryPromptTests: XCTestCase {
    func testHistoryPromptHasTheValidatedConstants() async throws {
        let url = ServerHarness.repositoryRoot.appendingPathComponent(
            "Tests/LatentflowNodesTests/Fixtures/validated_prompt.json")
        let fixture = try JSONValue.parse(Data(contentsOf: url))
        let submitted = try JSONValue.parse(try XCTUnwrap(fixture["prompt"]?.stringValue))
        let validated = try XCTUnwrap(fixture["validated"]?.stringValue)
        XCTAssertNotEqual(submitted.serialized(), validated, "the fixture has constants to convert")

        let harness = try ServerHarness()
        try await harness.run { client, _ in
            let (status, reply) = try await client.json(
                "/prompt", method: .post, body: .object([("prompt", submitted)]))
            XCTAssertEqual(status, .ok, reply.serialized())
            let promptId = try XCTUnwrap(reply["prompt_id"]?.stringValue)
            let entry = try await client.waitForHistory(promptId)
            XCTAssertEqual(entry["status"]?["status_str"]?.stringValue, "success", entry.serialized())
            XCTAssertEqual(entry["prompt"]?.arrayValue?[2].serialized(), validated)
        }
    }
}
