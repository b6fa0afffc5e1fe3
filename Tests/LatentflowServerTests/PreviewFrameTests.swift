import Foundation
import HummingbirdTesting
import HummingbirdWSClient
import Latentflow
import Logging
import XCTest

@testable import LatentflowServer

/// With `--preview-method latent2rgb`, the submitting client gets ComfyUI's binary preview frames
/// (`server.py` `send_image`: big-endian event 1 PREVIEW_IMAGE, format 1 JPEG, the JPEG), one per
/// sampler step, each after that step's `progress` message.
final class PreviewFrameTests: XCTestCase {
    func testLatent2RGBPreviewFramesArriveDuringSampling() async throws {
        let harness = try ServerHarness(preview: PreviewSettings(method: .latent2rgb))
        try await harness.run { client, port in
            let clientId = "preview-client"
            let (connected, signalConnected) = AsyncStream.makeStream(of: Void.self)
            let frames = FrameLog()
            let listener = Task {
                defer { signalConnected.finish() }
                // A 512 px preview JPEG is larger than the client's default 16 KiB frame limit.
                try await WebSocketClient.connect(
                    url: "ws://localhost:\(port)/ws?clientId=\(clientId)",
                    configuration: .init(maxFrameSize: 1 << 24), logger: Logger(label: "test.ws")
                ) { inbound, _, _ in
                    for try await message in inbound.messages(maxSize: 1 << 24) {
                        switch message {
                        case .binary(let buffer):
                            frames.append(.binary(Array(buffer.readableBytesView)))
                        case .text(let text):
                            let json = try JSONValue.parse(text)
                            let type = json["type"]?.stringValue ?? ""
                            frames.append(.text(type))
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

            let log = frames.entries
            let binaries = log.compactMap { entry -> [UInt8]? in
                if case .binary(let bytes) = entry { return bytes }
                return nil
            }
            XCTAssertEqual(binaries.count, 4, "one preview per step of the 4-step LCM run")
            for frame in binaries {
                XCTAssertEqual(Array(frame.prefix(8)), [0, 0, 0, 1, 0, 0, 0, 1])
                let image = try ImageCodec.decode(Data(frame.dropFirst(8)))
                XCTAssertEqual([image.width, image.height], [512, 512])
            }
            // Each preview follows a progress message.
            for (index, entry) in log.enumerated() {
                guard case .binary = entry else { continue }
                guard index > 0, case .text(let previous) = log[index - 1] else { return XCTFail("\(log)") }
                XCTAssertEqual(previous, "progress")
            }
        }
    }
}

/// `SaveImageWebsocket` (ComfyUI's `custom_nodes/websocket_image_save.py`): each image reaches the
/// submitting client as a `send_image` frame with format 2 (PNG), after a `progress` message whose
/// value is the image's index (`update_absolute(step, total)`), and no file is written.
final class SaveImageWebsocketTests: XCTestCase {
    func testImagesArriveAsPNGFramesAfterTheirProgress() async throws {
        let harness = try ServerHarness()
        try await harness.run { client, port in
            let clientId = "image-client"
            let (connected, signalConnected) = AsyncStream.makeStream(of: Void.self)
            let frames = FrameLog()
            let listener = Task {
                defer { signalConnected.finish() }
                try await WebSocketClient.connect(
                    url: "ws://localhost:\(port)/ws?clientId=\(clientId)", logger: Logger(label: "test.ws")
                ) { inbound, _, _ in
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        switch message {
                        case .binary(let buffer): frames.append(.binary(Array(buffer.readableBytesView)))
                        case .text(let text):
                            let json = try JSONValue.parse(text)
                            let type = json["type"]?.stringValue ?? ""
                            if type == "progress" {
                                frames.append(.text("progress \(json["data"]?["value"]?.serialized() ?? "")"))
                            }
                            if type == "status", json["data"]?["sid"] != nil { signalConnected.yield() }
                            if type == "executing", json["data"]?["node"] == .null { return }
                        }
                    }
                }
            }
            for await _ in connected { break }
            let prompt = try JSONValue.parse(
                #"{"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 6, "batch_size": 2, "color": 16744448}},"#
                    + #""2": {"class_type": "SaveImageWebsocket", "inputs": {"images": ["1", 0]}}}"#)
            let body = JSONValue.object([("prompt", prompt), ("client_id", .string(clientId))])
            let (status, reply) = try await client.json("/prompt", method: .post, body: body)
            XCTAssertEqual(status, .ok, reply.serialized())
            try await listener.value

            let log = frames.entries
            XCTAssertEqual(log.count, 4, "\(log)")
            for (index, entry) in log.enumerated() {
                if index % 2 == 0 {
                    guard case .text(let progress) = entry else { return XCTFail("\(log)") }
                    XCTAssertEqual(progress, "progress \(index / 2)")
                } else {
                    guard case .binary(let frame) = entry else { return XCTFail("\(log)") }
                    XCTAssertEqual(Array(frame.prefix(8)), [0, 0, 0, 1, 0, 0, 0, 2])
                    let image = try ImageCodec.decode(Data(frame.dropFirst(8)))
                    XCTAssertEqual([image.width, image.height, image.channels], [8, 6, 3])
                    guard case .uint8(let samples) = image.samples else { return XCTFail("8-bit PNG expected") }
                    XCTAssertEqual(Array(samples.prefix(3)), [0xFF, 0x80, 0x00])
                }
            }
            let written = (try? FileManager.default.contentsOfDirectory(atPath: harness.outputDirectory.path)) ?? []
            XCTAssertEqual(written, [], "no file is written")
        }
    }
}

final class FrameLog: @unchecked Sendable {
    enum Entry { case text(String), binary([UInt8]) }
    private let lock = NSLock()
    private var stored: [Entry] = []
    func append(_ entry: Entry) { lock.withLock { stored.append(entry) } }
    var entries: [Entry] { lock.withLock { stored } }
}
