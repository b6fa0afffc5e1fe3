import Foundation
import Hummingbird
import HummingbirdTesting
import Latentflow
import XCTest

@testable import LatentflowServer

/// Validation errors, path escapes, cross-origin requests and the informational routes: no model runs.
final class RequestHandlingTests: XCTestCase {
    func testInvalidWorkflowIsRefusedWithNodeErrors() async throws {
        try await ServerHarness().run { client, _ in
            var workflow = try ServerHarness.tinyWorkflow()
            let sampler = try XCTUnwrap(workflow["6"])
            let inputs = try XCTUnwrap(sampler["inputs"]).setting("sampler_name", .string("no_such_sampler"))
            workflow = workflow.setting("6", sampler.setting("inputs", inputs))
            let (status, reply) = try await client.json("/prompt", method: .post, body: .object([("prompt", workflow)]))
            XCTAssertEqual(status, .badRequest)
            XCTAssertEqual(reply["error"]?["type"]?.stringValue, "prompt_outputs_failed_validation")
            XCTAssertEqual(
                reply["node_errors"]?["6"]?["errors"]?.arrayValue?.first?["type"]?.stringValue,
                "value_not_in_list", reply.serialized())

            // A missing node class condemns the whole prompt: reported in `error`, not per node.
            let unknown = JSONValue.object([
                ("1", .object([("class_type", .string("NoSuchNode")), ("inputs", .object([]))]))
            ])
            let (unknownStatus, unknownReply) = try await client.json(
                "/api/prompt", method: .post,
                body: .object([("prompt", unknown)]))
            XCTAssertEqual(unknownStatus, .badRequest)
            XCTAssertEqual(unknownReply["error"]?["type"]?.stringValue, "invalid_prompt", unknownReply.serialized())
            XCTAssertEqual(unknownReply["node_errors"], .object([]))

            let (missingStatus, missingReply) = try await client.json("/prompt", method: .post, body: .object([]))
            XCTAssertEqual(missingStatus, .badRequest)
            XCTAssertEqual(missingReply["error"]?["type"]?.stringValue, "no_prompt")
        }
    }

    func testViewNeverLeavesItsFolder() async throws {
        let harness = try ServerHarness()
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("latentflow-outside-\(UUID()).png")
        try Data([0x89, 0x50, 0x4E, 0x47]).write(to: outside)
        defer { try? FileManager.default.removeItem(at: outside) }
        try FileManager.default.createSymbolicLink(
            at: harness.outputDirectory.appendingPathComponent("link.png"),
            withDestinationURL: outside)
        try Data("inside".utf8).write(to: harness.outputDirectory.appendingPathComponent("inside.txt"))
        try await harness.run { client, _ in
            for (uri, expected) in [
                ("/view?filename=../Package.swift", HTTPResponse.Status.badRequest),
                ("/view?filename=Package.swift&subfolder=..", .badRequest),
                ("/view?filename=%2Fetc%2Fpasswd", .badRequest),
                ("/view?filename=link.png", .forbidden),
                ("/view?filename=missing.png", .notFound),
                ("/view?filename=inside.txt", .ok),
            ] {
                let status = try await client.execute(uri: uri, method: .get) { $0.status }
                XCTAssertEqual(status, expected, uri)
            }
        }
    }

    func testCrossOriginStateChangesAreRefused() async throws {
        try await ServerHarness().run { client, _ in
            var headers = HTTPFields()
            headers[.origin] = "http://evil.example"
            let (status, _) = try await client.json(
                "/queue", method: .post, body: .object([("clear", .bool(true))]),
                headers: headers)
            XCTAssertEqual(status, .forbidden)
            headers[.origin] = "http://localhost"
            let (sameOrigin, _) = try await client.json(
                "/queue", method: .post,
                body: .object([("clear", .bool(true))]), headers: headers)
            XCTAssertEqual(sameOrigin, .ok)
        }
    }

    func testInformationalRoutes() async throws {
        try await ServerHarness().run { client, _ in
            func get(_ uri: String) async throws -> JSONValue { try await client.json(uri).json }
            let prompt = try await get("/prompt")
            XCTAssertEqual(prompt["exec_info"]?["queue_remaining"], .int(0))
            let sampler = try await get("/object_info/KSampler")["KSampler"]
            XCTAssertEqual(sampler?["input"]?["required"]?["seed"]?.arrayValue?.first, .string("INT"))
            XCTAssertEqual(sampler?["output"], .array([.string("LATENT")]))
            XCTAssertEqual(sampler?["python_module"]?.stringValue, "nodes")
            let all = try await get("/api/object_info")
            let checkpoints = all["CheckpointLoaderSimple"]?["input"]?["required"]?["ckpt_name"]?.arrayValue?.first
            let tiny = JSONValue.string("latentflow-tiny-sd15.safetensors")
            XCTAssertTrue(checkpoints?.arrayValue?.contains(tiny) == true)
            let extensions = try await get("/extensions")
            XCTAssertEqual(extensions, .array([]))
            let stats = try await get("/system_stats")
            XCTAssertNotNil(stats["devices"]?.arrayValue?.first?["name"])
            let folders = try await get("/models")
            XCTAssertTrue(folders.arrayValue?.contains(.string("checkpoints")) == true)
            let models = try await get("/models/checkpoints")
            XCTAssertTrue(models.arrayValue?.contains(tiny) == true)
            let features = try await get("/features")
            XCTAssertNotNil(features["max_upload_size"])
            let embeddings = try await get("/embeddings")
            XCTAssertNotNil(embeddings.arrayValue)
            let (status, _) = try await client.json("/history/unknown")
            XCTAssertEqual(status, .ok)
        }
    }
}
