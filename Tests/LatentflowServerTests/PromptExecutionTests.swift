import Foundation
import HummingbirdTesting
import HummingbirdWSClient
import Latentflow
import Logging
import XCTest

@testable import LatentflowServer

/// A workflow submitted over HTTP runs, lands in the history, its image is served by /view, and
/// the submitting WebSocket client hears it through to the final `executing` with a null node.
final class PromptExecutionTests: XCTestCase {
    func testPromptRunsReportsOverWebSocketAndServesTheImage() async throws {
        let harness = try ServerHarness()
        try await harness.run { client, port in
            let clientId = "test-client"
            let (connected, signalConnected) = AsyncStream.makeStream(of: Void.self)
            let messages = Task {
                // Finishing the signal on any exit keeps a failed connection from hanging the test.
                defer { signalConnected.finish() }
                return try await Self.collectUntilDone(
                    port: port, clientId: clientId,
                    onConnected: { signalConnected.yield() })
            }
            for await _ in connected { break }

            let body = JSONValue.object([
                ("prompt", try ServerHarness.tinyWorkflow()),
                ("client_id", .string(clientId)),
            ])
            let (status, reply) = try await client.json("/prompt", method: .post, body: body)
            XCTAssertEqual(status, .ok, reply.serialized())
            let promptId = try XCTUnwrap(reply["prompt_id"]?.stringValue)
            XCTAssertNotNil(reply["number"]?.intValue)
            XCTAssertEqual(reply["node_errors"], .object([]))

            let entry = try await client.waitForHistory(promptId)
            XCTAssertEqual(entry["status"]?["status_str"]?.stringValue, "success", entry.serialized())
            XCTAssertEqual(entry["prompt"]?.arrayValue?[1].stringValue, promptId)
            let image = try XCTUnwrap(entry["outputs"]?["8"]?["images"]?.arrayValue?.first, entry.serialized())
            let filename = try XCTUnwrap(image["filename"]?.stringValue)
            XCTAssertEqual(image["type"]?.stringValue, "output")

            let subfolder = image["subfolder"]?.stringValue ?? ""
            try await client.execute(
                uri: "/view?filename=\(filename)&subfolder=\(subfolder)&type=output",
                method: .get
            ) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(response.headers[.contentType], "image/png")
                XCTAssertEqual(Array(response.body.readableBytesView.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
            }

            let events = try await messages.value
            let types = events.compactMap { $0["type"]?.stringValue }
            XCTAssertEqual(types.first, "status")
            for expected in [
                "execution_start", "execution_cached", "executing", "progress", "executed",
                "execution_success",
            ] {
                XCTAssertTrue(types.contains(expected), "no \(expected) in \(types)")
            }
            let done = try XCTUnwrap(events.last)
            XCTAssertEqual(done["data"]?["node"], .null)
            XCTAssertEqual(done["data"]?["prompt_id"]?.stringValue, promptId)

            let queue = try await client.json("/api/queue").json
            XCTAssertEqual(queue["queue_running"], .array([]))
            XCTAssertEqual(queue["queue_pending"], .array([]))
            let history = try await client.json("/history").json
            XCTAssertEqual(history[promptId]?["status"]?["completed"], .bool(true))
        }
    }

    /// Every message `clientId` receives until `executing` with a null node.
    static func collectUntilDone(
        port: Int, clientId: String,
        onConnected: @escaping @Sendable () -> Void
    ) async throws -> [JSONValue] {
        let collected = MessageLog()
        try await WebSocketClient.connect(
            url: "ws://localhost:\(port)/ws?clientId=\(clientId)",
            logger: Logger(label: "test.ws")
        ) { inbound, _, _ in
            for try await message in inbound.messages(maxSize: 1 << 24) {
                guard case .text(let text) = message else { continue }
                let json = try JSONValue.parse(text)
                collected.append(json)
                if json["type"]?.stringValue == "status", json["data"]?["sid"] != nil { onConnected() }
                if json["type"]?.stringValue == "executing", json["data"]?["node"] == .null { return }
            }
        }
        return collected.messages
    }
}

/// Messages gathered on the client's event loop and read back after it closes.
final class MessageLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [JSONValue] = []
    func append(_ message: JSONValue) { lock.withLock { stored.append(message) } }
    var messages: [JSONValue] { lock.withLock { stored } }
}
