import Foundation
import Latentflow
import XCTest

@testable import LatentflowServer

/// The queue's database in-process: what a restart makes of each state a prompt can be left in,
/// the crash-loop guard, the routes that delete, and the 503 of a draining server.
final class PromptStoreTests: XCTestCase {
    /// `--max-queue`: prompts beyond the limit are refused (POST /prompt answers 503 queue_full),
    /// and the limit is the configured one, not a constant.
    func testTheQueueRefusesPromptsBeyondItsLimit() async throws {
        let harness = try ServerHarness()
        let workflow = try ServerHarness.tinyWorkflow()
        let loaded = try harness.server.engine.loader.load(workflow, source: "test")
        let queue = PromptQueue(maxPending: 3)
        for number in 1...5 {
            let prompt = QueuedPrompt(
                number: Double(number), id: "p\(number)", prompt: workflow, extraData: .object([]),
                outputsToExecute: ["8"], clientId: nil, workflow: loaded, targets: nil)
            do {
                try await queue.enqueue(prompt)
                XCTAssertLessThanOrEqual(number, 3, "prompt \(number) was accepted past the limit")
            } catch is PromptQueueFull {
                XCTAssertGreaterThan(number, 3, "prompt \(number) was refused below the limit")
            }
        }
        let pending = await queue.pendingJSON
        XCTAssertEqual(pending.count, 3)
    }

    func testRestartRequeuesPendingAndRunningAndFailsAPromptThatDiedTwice() async throws {
        let harness = try ServerHarness()
        let url = harness.userDirectory.appendingPathComponent("latentflow/queue.sqlite")
        let workflow = try ServerHarness.tinyWorkflow()
        let loaded = try harness.server.engine.loader.load(workflow, source: "test")
        func prompt(_ id: String, _ number: Double) -> QueuedPrompt {
            QueuedPrompt(
                number: number, id: id, prompt: workflow, extraData: .object([("client_id", .string("c"))]),
                outputsToExecute: ["8"], clientId: "c", workflow: loaded, targets: nil)
        }
        // The state a killed process leaves: "died-twice" began two runs, "died-once" one (the
        // running prompt), "later" and "front" are pending ("front" was queued with front: true).
        let store = try PromptStore(url: url)
        for (id, number) in [("died-twice", 1.0), ("died-once", 2.0), ("later", 4.0), ("front", -3.0)] {
            try store.accepted(prompt(id, number))
        }
        try store.started("died-twice")
        try store.started("died-twice")
        try store.started("died-once")
        try store.finished("earlier", entry: .object([("status", .string("kept"))]))
        try store.close()

        let restarted = try LatentflowServer(
            engine: harness.server.engine,
            configuration: ServerConfiguration(port: 0, userDirectory: harness.userDirectory))
        let pending = await restarted.queue.pendingJSON.compactMap { $0.arrayValue?[1].stringValue }
        XCTAssertEqual(pending, ["died-once", "front", "later"])
        let failedEntry = await restarted.queue.historyEntry("died-twice")
        let failed = try XCTUnwrap(failedEntry)
        XCTAssertEqual(failed["status"]?["status_str"]?.stringValue, "error")
        let message = failed["status"]?["messages"]?.arrayValue?.first?.arrayValue?[1]["exception_message"]
        XCTAssertTrue(message?.stringValue?.contains("2 times") == true, failed.serialized())
        let earlier = await restarted.queue.historyEntry("earlier")
        XCTAssertEqual(earlier?["status"]?.stringValue, "kept")
        // New prompts number after every restored one.
        let next = await restarted.queue.nextNumber(requested: nil, front: false)
        XCTAssertEqual(next, 5)

        // Deleting through the queue reaches the database: a third start sees it.
        await restarted.queue.deletePending(["later"])
        await restarted.queue.deleteHistory(["earlier"])
        await restarted.queue.closeStore()
        let third = try PromptStore(url: url)
        XCTAssertEqual(try third.storedQueue().map(\.id), ["died-once", "front"])
        XCTAssertEqual(try third.storedHistory().map(\.id), ["died-twice"])
        try third.close()
    }

    /// ComfyUI keeps the newest MAXIMUM_HISTORY_SIZE entries; a limit of 5 stands in for its 10000.
    func testHistoryKeepsTheNewestEntries() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lf-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try PromptStore(url: folder.appendingPathComponent("queue.sqlite"), historyLimit: 5)
        for index in 0..<8 { try store.finished("p\(index)", entry: .int(Int64(index))) }
        // Finishing a prompt again replaces its entry and moves it to the newest.
        try store.finished("p4", entry: .string("again"))
        let history = try store.storedHistory()
        XCTAssertEqual(history.map(\.id), ["p3", "p5", "p6", "p7", "p4"])
        XCTAssertEqual(history.last?.entry, .string("again"))
        try store.close()
    }

    func testADrainingServerRefusesNewPromptsWith503() async throws {
        let harness = try ServerHarness()
        try await harness.run { client, _ in
            await harness.server.shutDown()
            let body = JSONValue.object([("prompt", try ServerHarness.tinyWorkflow())])
            let (status, reply) = try await client.json("/prompt", method: .post, body: body)
            XCTAssertEqual(status, .serviceUnavailable, reply.serialized())
            XCTAssertEqual(reply["error"]?["type"]?.stringValue, "server_shutting_down")
        }
    }
}
