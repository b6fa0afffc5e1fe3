import Foundation
import Latentflow
import XCTest

@testable import LatentflowServer

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `latentflow serve` as a real process over the tiny model: killed with `kill -9` while it works
/// through a queue, or stopped with SIGTERM, and started again on the same folders. Every
/// accepted prompt runs exactly once (one image each, told apart by the seed in its metadata),
/// and no temporary file remains. Runs in the child-process xctest run of `.ci/run`.
final class ServerRestartTests: XCTestCase {
    var scratch: URL!
    var output: URL { scratch.appendingPathComponent("output") }
    var user: URL { scratch.appendingPathComponent("user") }

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lf-restart-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    func testKillNineWhileBusyLosesNoPrompt() async throws {
        var server = try ServeProcess(output: output, user: user)
        let seeds = Array(100..<106)
        var ids: [String] = []
        for seed in seeds { ids.append(try await server.submit(seed: seed, steps: ServeProcess.steps)) }
        // Killed while the third (or a later) prompt runs: some done, one half-way, some pending.
        try await server.waitUntil(timeout: 240, "two prompts finished and one running") {
            let history = try await server.get("/history")
            let running = try await server.get("/queue")["queue_running"]?.arrayValue ?? []
            return (history.objectPairs?.count ?? 0) >= 2 && !running.isEmpty
        }
        let finishedBeforeKill = try await server.get("/history").objectPairs?.count ?? 0
        server.kill9()

        server = try ServeProcess(output: output, user: user)
        try await server.waitUntil(timeout: 300, "every prompt in the history") {
            let history = try await server.get("/history")
            return ids.allSatisfy { history[$0] != nil }
        }
        let history = try await server.get("/history")
        let entries = history.objectPairs ?? []
        XCTAssertEqual(entries.count, ids.count, "one entry per prompt: \(entries.map(\.key))")
        var completed = 0
        for id in ids {
            let status = history[id]?["status"]
            XCTAssertEqual(status?["status_str"]?.stringValue, "success", "\(id): \(status?.serialized() ?? "none")")
            if status?["completed"] == .bool(true) { completed += 1 }
        }
        XCTAssertEqual(try imageSeeds(), seeds, "one image per prompt, each with its own seed")
        XCTAssertEqual(temporaryFiles(), [], "no temporary file remains")
        let queue = try await server.get("/queue")
        XCTAssertEqual(queue["queue_pending"], .array([]))
        XCTAssertEqual(try server.terminate(), 0, server.standardError.text)
        print(
            "ServerRestartTests kill -9: accepted \(ids.count), finished before the kill \(finishedBeforeKill),"
                + " completed \(completed), lost \(ids.count - completed)")
    }

    /// Killed at the worst point: the prompt's image is complete under its final name, its history
    /// is not recorded (the server's test hook SIGKILLs itself right after the first output file's
    /// claim). The restart runs that prompt again: it must end with one image, not two.
    func testKillNineRightAfterTheOutputIsWrittenLeavesOneImagePerPrompt() async throws {
        let crashing = try ServeProcess(
            output: output, user: user, environment: ["LATENTFLOW_TEST_SIGKILL_AFTER_OUTPUT": "1"])
        let first = try await crashing.submit(seed: 300, steps: 2)
        XCTAssertEqual(crashing.waitForExit(within: 240), -SIGKILL, crashing.standardError.text)
        XCTAssertEqual(try imageSeeds(), [300], "the stopped run's image was complete on disk")

        let server = try ServeProcess(output: output, user: user)
        let second = try await server.submit(seed: 301, steps: 2)
        try await server.waitUntil(timeout: 300, "both prompts in the history") {
            let history = try await server.get("/history")
            return history[first] != nil && history[second] != nil
        }
        let history = try await server.get("/history")
        for id in [first, second] {
            XCTAssertEqual(history[id]?["status"]?["status_str"]?.stringValue, "success", id)
            let images = history[id]?["outputs"]?["8"]?["images"]?.arrayValue ?? []
            XCTAssertEqual(images.count, 1, "\(id): \(history[id]?.serialized() ?? "none")")
            let name = try XCTUnwrap(images.first?["filename"]?.stringValue)
            XCTAssertTrue(FileManager.default.fileExists(atPath: output.appendingPathComponent(name).path), name)
        }
        XCTAssertEqual(try imageSeeds(), [300, 301], "one image per prompt")
        XCTAssertEqual(temporaryFiles(), [], "no temporary file remains")
        XCTAssertEqual(try server.terminate(), 0, server.standardError.text)
    }

    func testSIGTERMDrainsExitsZeroAndTheRestartFinishesTheQueue() async throws {
        var server = try ServeProcess(output: output, user: user)
        let seeds = Array(200..<204)
        var ids: [String] = []
        for seed in seeds { ids.append(try await server.submit(seed: seed, steps: ServeProcess.steps)) }
        try await server.waitUntil(timeout: 240, "the first prompt running") {
            !(try await server.get("/queue")["queue_running"]?.arrayValue ?? []).isEmpty
        }
        let status = try server.terminate(within: 60)
        XCTAssertEqual(status, 0, server.standardError.text)
        XCTAssertTrue(server.standardError.text.contains("shutting down"), server.standardError.text)
        XCTAssertEqual(try imageSeeds(), [], "the interrupted prompt wrote nothing")

        server = try ServeProcess(output: output, user: user)
        let queue = try await server.get("/queue")
        let queued = (queue["queue_pending"]?.arrayValue ?? []) + (queue["queue_running"]?.arrayValue ?? [])
        XCTAssertEqual(Set(queued.compactMap { $0.arrayValue?[1].stringValue }), Set(ids), "all four queued again")
        try await server.waitUntil(timeout: 600, "every prompt in the history") {
            let history = try await server.get("/history")
            return ids.allSatisfy { history[$0] != nil }
        }
        let history = try await server.get("/history")
        for id in ids { XCTAssertEqual(history[id]?["status"]?["status_str"]?.stringValue, "success", id) }
        XCTAssertEqual(try imageSeeds(), seeds)
        XCTAssertEqual(temporaryFiles(), [])
        XCTAssertEqual(try server.terminate(), 0, server.standardError.text)
    }

    /// The seeds of the output images, read from the prompt each PNG embeds (each image decodes).
    func imageSeeds() throws -> [Int] {
        let names = try FileManager.default.contentsOfDirectory(atPath: output.path).filter { $0.hasSuffix(".png") }
        return try names.map { name in
            let image = try ImageCodec.read(path: output.appendingPathComponent(name).path)
            let prompt = try XCTUnwrap(image.textChunks.first { $0.key == "prompt" }?.text, name)
            return try XCTUnwrap(try JSONValue.parse(prompt)["6"]?["inputs"]?["seed"]?.intValue, name)
        }.sorted()
    }

    func temporaryFiles() -> [String] {
        let walker = FileManager.default.enumerator(atPath: output.path)
        return ((walker?.allObjects as? [String]) ?? []).filter {
            ($0 as NSString).lastPathComponent.hasPrefix(OutputFile.temporaryPrefix)
        }
    }
}

/// One `latentflow serve --port 0` child on the repository's models and the test's folders;
/// its port is read from the line it prints once it listens.
struct ServeProcess {
    /// Sampler steps per prompt: a few seconds each in a debug build on a loaded 2-core machine
    /// (400 took over a minute), so that a signal lands while a prompt runs.
    static let steps = 12

    let process = Process()
    let standardError = ChildOutput()
    var port = 0

    /// - Parameter environment: added to this process's environment for the child.
    init(output: URL, user: URL, environment: [String: String] = [:]) throws {
        let binary = ServerHarness.repositoryRoot.appendingPathComponent(".build/debug/latentflow")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("\(binary.path) is not built (swift build --build-tests builds it)")
        }
        process.executableURL = binary
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.arguments = [
            "serve", "--port", "0", "--base-dir", ServerHarness.repositoryRoot.path, "--output-dir", output.path,
            "--user-directory", user.path,
        ]
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        pipe.fileHandleForReading.readabilityHandler = { [standardError] in standardError.append($0.availableData) }
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while port == 0 {
            let text = standardError.text
            if let range = text.range(of: "listening on http://127.0.0.1:") {
                port = Int(text[range.upperBound...].prefix { $0.isNumber }) ?? 0
            }
            guard port == 0 else { break }
            guard process.isRunning, Date() < deadline else {
                if process.isRunning { process.terminate() }
                throw ChildFailure(description: "serve did not start listening; stderr:\n\(text)")
            }
            usleep(50_000)
        }
    }

    func submit(seed: Int, steps: Int) async throws -> String {
        var workflow = try ServerHarness.tinyWorkflow()
        let sampler = try XCTUnwrap(workflow["6"])
        let inputs = try XCTUnwrap(sampler["inputs"]).setting("seed", .int(Int64(seed))).setting(
            "steps", .int(Int64(steps)))
        workflow = workflow.setting("6", sampler.setting("inputs", inputs))
        let reply = try await post("/prompt", .object([("prompt", workflow)]))
        return try XCTUnwrap(reply["prompt_id"]?.stringValue, reply.serialized())
    }

    func get(_ path: String) async throws -> JSONValue {
        try await request(URLRequest(url: try url(path)))
    }

    func post(_ path: String, _ body: JSONValue) async throws -> JSONValue {
        var request = URLRequest(url: try url(path))
        (request.httpMethod, request.httpBody) = ("POST", Data(body.serialized().utf8))
        return try await self.request(request)
    }

    private func url(_ path: String) throws -> URL {
        try XCTUnwrap(URL(string: "http://127.0.0.1:\(port)\(path)"))
    }

    private func request(_ request: URLRequest) async throws -> JSONValue {
        let (data, _) = try await URLSession.shared.data(for: request)
        return try JSONValue.parse(data)
    }

    /// Polls `condition` twice a second until it holds; fails (and throws) after `timeout` seconds.
    func waitUntil(
        timeout: TimeInterval, _ what: String,
        _ condition: () async throws -> Bool
    ) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while try await !condition() {
            guard process.isRunning, Date() < deadline else {
                if process.isRunning { kill9() }
                throw ChildFailure(
                    description: "not reached within \(timeout) s: \(what); stderr:\n\(standardError.text)")
            }
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    /// The exit status once the child has exited by itself (a signal as its negative); nil if it
    /// still runs after `seconds` (then it is killed).
    func waitForExit(within seconds: TimeInterval) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        guard !process.isRunning else {
            kill9()
            return nil
        }
        process.waitUntilExit()
        return process.terminationReason == .exit ? process.terminationStatus : -process.terminationStatus
    }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM, then the exit status; a child still running after `within` seconds is killed (status -1).
    func terminate(within seconds: TimeInterval = 60) throws -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        guard !process.isRunning else {
            kill9()
            return -1
        }
        process.waitUntilExit()
        return process.terminationReason == .exit ? process.terminationStatus : -Int32(process.terminationStatus)
    }
}

struct ChildFailure: Error, CustomStringConvertible {
    let description: String
}

/// A child's standard error, gathered on the pipe's thread and read from the test's.
final class ChildOutput: @unchecked Sendable {
    private var data = Data()
    private let lock = NSLock()

    func append(_ chunk: Data) { lock.withLock { data.append(chunk) } }
    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}
