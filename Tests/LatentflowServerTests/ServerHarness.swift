import Foundation
import Hummingbird
import HummingbirdTesting
import Latentflow
import XCTest

@testable import LatentflowServer

/// A server on a free loopback port over the repository's tiny model, writing to a temp folder;
/// its worker runs for the length of one `run`; its folders go when the harness does.
final class ServerHarness: Sendable {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    let server: LatentflowServer
    /// Holds `output/` and `user/`; removed after the test.
    let scratch: URL
    var outputDirectory: URL { scratch.appendingPathComponent("output") }
    var userDirectory: URL { scratch.appendingPathComponent("user") }

    /// - Parameter input: the input folder (default: the repository's `input/`, read-only in tests).
    init(
        frontEndRoot: URL? = nil, input: Bool = false, authToken: String? = nil,
        preview: PreviewSettings = PreviewSettings()
    ) throws {
        scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("latentflow-server-tests-\(UUID().uuidString)")
        let outputDirectory = scratch.appendingPathComponent("output")
        try FileManager.default.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
        var configuration = EngineConfiguration(baseDirectory: Self.repositoryRoot)
        configuration.outputDirectory = outputDirectory
        if input { configuration.inputDirectory = scratch.appendingPathComponent("input") }
        configuration.preview = preview
        server = try LatentflowServer(
            engine: try Engine(configuration: configuration),
            configuration: ServerConfiguration(
                port: 0, frontEndRoot: frontEndRoot, userDirectory: scratch.appendingPathComponent("user"),
                authToken: authToken))
    }

    deinit { try? FileManager.default.removeItem(at: scratch) }

    /// Runs `test` against the live server (HTTP client and port), with the worker running.
    func run(_ test: @escaping @Sendable (any TestClientProtocol, Int) async throws -> Void) async throws {
        let server = self.server
        let worker = Task { await server.runWorker() }
        defer { worker.cancel() }
        try await server.makeApplication().test(.live) { client in
            try await test(client, client.port ?? 0)
        }
    }

    /// `workflows/lcm-tiny.json` at 64x64, so a run takes moments.
    static func tinyWorkflow() throws -> JSONValue {
        let url = repositoryRoot.appendingPathComponent("workflows/lcm-tiny.json")
        let workflow = try JSONValue.parse(Data(contentsOf: url))
        let latent = try XCTUnwrap(workflow["5"])
        let inputs = try XCTUnwrap(latent["inputs"]).setting("width", .int(64)).setting("height", .int(64))
        return workflow.setting("5", latent.setting("inputs", inputs))
    }
}

extension TestClientProtocol {
    func json(
        _ uri: String, method: HTTPRequest.Method = .get, body: JSONValue? = nil,
        headers: HTTPFields = [:]
    ) async throws -> (status: HTTPResponse.Status, json: JSONValue) {
        try await execute(
            uri: uri, method: method, headers: headers,
            body: body.map { ByteBuffer(string: $0.serialized()) }
        ) { response in
            let text = String(buffer: response.body)
            guard response.status == .ok || response.status == .badRequest || response.status == .serviceUnavailable
            else { return (response.status, .string(text)) }
            return (response.status, text.isEmpty ? .null : try JSONValue.parse(text))
        }
    }

    /// Status and raw body of any request.
    func raw(
        _ uri: String, method: HTTPRequest.Method = .get, body: Data? = nil, headers: HTTPFields = [:]
    ) async throws -> (status: HTTPResponse.Status, body: Data, headers: HTTPFields) {
        try await execute(
            uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(bytes: $0) }
        ) { response in (response.status, Data(buffer: response.body), response.headers) }
    }

    /// Polls `/history/{id}` until the prompt has finished.
    func waitForHistory(_ promptId: String, timeout: TimeInterval = 300) async throws -> JSONValue {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let entry = try await json("/history/\(promptId)").json[promptId] { return entry }
            try await Task.sleep(for: .milliseconds(200))
        }
        XCTFail("prompt \(promptId) did not finish within \(timeout) s")
        return .null
    }
}
