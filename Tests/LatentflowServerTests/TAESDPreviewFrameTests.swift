import Foundation
import HummingbirdTesting
import HummingbirdWSClient
import Latentflow
import Logging
import XCTest

@testable import LatentflowServer

/// `serve --preview-method taesd` with a TAESD decoder in `models/vae_approx` (the repository's
/// 8-wide stand-in, `scripts/make_taesd_fixtures.py`): the client's preview frames are that
/// decoder's previews, the same JPEGs the engine reports for the run (TAESDTests checks the
/// previewer against ComfyUI's). `auto` is latent2rgb, as in ComfyUI v0.3.64's
/// `latent_preview.get_previewer` (`if method == Auto: method = Latent2RGB`, no TAESD lookup).
final class TAESDPreviewFrameTests: XCTestCase {
    func testTAESDFramesAreTheDecodersPreviewsAndAutoIsLatent2RGB() async throws {
        let taesd = try await Self.serverFrames(.taesd)
        let engineTAESD = try await Self.enginePreviews(.taesd)
        XCTAssertEqual(taesd.count, 4, "one preview per step of the 4-step LCM run")
        XCTAssertEqual(taesd.map { Array($0.prefix(8)) }, Array(repeating: [0, 0, 0, 1, 0, 0, 0, 1], count: 4))
        XCTAssertEqual(taesd.map { Data($0.dropFirst(8)) }, engineTAESD, "the frames carry TAESD's previews")

        let latent2rgb = try await Self.enginePreviews(.latent2rgb)
        XCTAssertNotEqual(engineTAESD, latent2rgb, "TAESD and latent2rgb previews differ")
        let auto = try await Self.serverFrames(.auto)
        XCTAssertEqual(auto.map { Data($0.dropFirst(8)) }, latent2rgb, "auto previews with latent2rgb")
    }

    /// The binary frames one client gets for the tiny workflow from a server with `method`.
    static func serverFrames(_ method: PreviewMethod) async throws -> [[UInt8]] {
        let harness = try ServerHarness(preview: PreviewSettings(method: method, maxSize: 64))
        let frames = FrameLog()
        try await harness.run { client, port in
            let clientId = "taesd-client"
            let (connected, signalConnected) = AsyncStream.makeStream(of: Void.self)
            let listener = Task {
                defer { signalConnected.finish() }
                try await WebSocketClient.connect(
                    url: "ws://localhost:\(port)/ws?clientId=\(clientId)",
                    configuration: .init(maxFrameSize: 1 << 24), logger: Logger(label: "test.ws")
                ) { inbound, _, _ in
                    for try await message in inbound.messages(maxSize: 1 << 24) {
                        switch message {
                        case .binary(let buffer): frames.append(.binary(Array(buffer.readableBytesView)))
                        case .text(let text):
                            let json = try JSONValue.parse(text)
                            let type = json["type"]?.stringValue ?? ""
                            if type == "status", json["data"]?["sid"] != nil { signalConnected.yield() }
                            if type == "executing", json["data"]?["node"] == .null { return }
                        }
                    }
                }
            }
            for await _ in connected { break }
            let body = JSONValue.object([
                ("prompt", try ServerHarness.tinyWorkflow()), ("client_id", .string(clientId)),
            ])
            let (status, reply) = try await client.json("/prompt", method: .post, body: body)
            XCTAssertEqual(status, .ok, reply.serialized())
            try await listener.value
        }
        return frames.entries.compactMap { entry in
            if case .binary(let bytes) = entry { return bytes }
            return nil
        }
    }

    /// The JPEGs an engine with `method` reports for the same run, in step order.
    static func enginePreviews(_ method: PreviewMethod) async throws -> [Data] {
        var configuration = EngineConfiguration(baseDirectory: ServerHarness.repositoryRoot)
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("lf-taesd-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        configuration.outputDirectory = output
        configuration.preview = PreviewSettings(method: method, maxSize: 64)
        let engine = try Engine(configuration: configuration)
        let previews = PreviewJPEGs()
        _ = try await engine.run(try engine.loader.load(try ServerHarness.tinyWorkflow(), source: "test")) {
            previews.handle($0)
        }
        return previews.jpegs
    }
}

final class PreviewJPEGs: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Data] = []
    func handle(_ event: ExecutionEvent) {
        guard case let .preview(_, _, _, jpeg) = event else { return }
        lock.withLock { stored.append(jpeg) }
    }
    var jpegs: [Data] { lock.withLock { stored } }
}
