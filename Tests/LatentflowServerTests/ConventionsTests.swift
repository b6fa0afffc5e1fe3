import Foundation
import Hummingbird
import HummingbirdTesting
import Latentflow
import XCTest

@testable import LatentflowServer

/// `--auth-token` and the ComfyUI conventions the server exposes: LoadImage's annotated names.
final class ConventionsTests: XCTestCase {
    func testAuthTokenIsRequiredOnEveryRoute() async throws {
        try await ServerHarness(authToken: "s3cret").run { client, _ in
            for uri in ["/system_stats", "/api/prompt", "/view?filename=x.png", "/settings", "/"] {
                let (status, _, headers) = try await client.raw(uri)
                XCTAssertEqual(status, .unauthorized, uri)
                XCTAssertEqual(headers[.wwwAuthenticate], "Bearer")
            }
            var wrong = HTTPFields()
            wrong[.authorization] = "Bearer s3cre"
            let (refused, _, _) = try await client.raw("/system_stats", headers: wrong)
            XCTAssertEqual(refused, .unauthorized)
            var right = HTTPFields()
            right[.authorization] = "Bearer s3cret"
            let (allowed, _, _) = try await client.raw("/system_stats", headers: right)
            XCTAssertEqual(allowed, .ok)
        }
    }

    func testLoadImageTakesAnnotatedNames() async throws {
        let harness = try ServerHarness(input: true)
        let png = try UploadAndViewTests.fixture("original")
        try png.write(to: harness.outputDirectory.appendingPathComponent("made.png"))
        try await harness.run { client, _ in
            func prompt(_ image: String) -> JSONValue {
                .object([
                    (
                        "prompt",
                        .object([
                            (
                                "1",
                                .object([
                                    ("class_type", .string("LoadImage")),
                                    ("inputs", .object([("image", .string(image))])),
                                ])
                            ),
                            (
                                "2",
                                .object([
                                    ("class_type", .string("SaveImage")),
                                    (
                                        "inputs",
                                        .object([
                                            ("images", .array([.string("1"), .int(0)])),
                                            ("filename_prefix", .string("again")),
                                        ])
                                    ),
                                ])
                            ),
                        ])
                    )
                ])
            }
            let (status, reply) = try await client.json("/prompt", method: .post, body: prompt("made.png [output]"))
            XCTAssertEqual(status, .ok, reply.serialized())
            let id = try XCTUnwrap(reply["prompt_id"]?.stringValue)
            let entry = try await client.waitForHistory(id)
            XCTAssertEqual(entry["status"]?["completed"], .bool(true), entry.serialized())
            let saved = try XCTUnwrap(entry["outputs"]?["2"]?["images"]?.arrayValue?.first?["filename"]?.stringValue)
            let again = try ImageCodec.read(path: harness.outputDirectory.appendingPathComponent(saved).path)
            XCTAssertEqual(again.samples, try ImageCodec.decode(png).samples)

            for refused in ["missing.png [output]", "made.png [input]", "../output/made.png", "made.png [temp]"] {
                let (refusedStatus, refusedReply) = try await client.json(
                    "/prompt", method: .post, body: prompt(refused))
                XCTAssertEqual(refusedStatus, .badRequest, refused)
                XCTAssertNotNil(refusedReply["node_errors"]?["1"], "\(refused): \(refusedReply.serialized())")
            }
        }
    }
}
