import Foundation
import Hummingbird
import HummingbirdTesting
import Latentflow
import XCTest

@testable import LatentflowServer

/// `POST /upload/image`, `/upload/mask`, `/view` with `preview` and `channel`, and `POST /free`
/// over real HTTP. Images are compared with what Pillow (ComfyUI's image library) made of the
/// same inputs: `scripts/make_server_upload_fixtures.py`.
final class UploadAndViewTests: XCTestCase {
    static func fixture(_ name: String) throws -> Data {
        let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: "png", subdirectory: "Fixtures"))
        return try Data(contentsOf: url)
    }

    static func multipart(_ fields: [(String, String)], file: (name: String, filename: String, data: Data)?)
        -> (body: Data, headers: HTTPFields)
    {
        let boundary = "----latentflow\(UUID().uuidString)"
        var body = Data()
        for (name, value) in fields {
            body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        if let file {
            body += Data(
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.name)\"; filename=\"\(file.filename)\"\r\nContent-Type: image/png\r\n\r\n"
                    .utf8)
            body += file.data + Data("\r\n".utf8)
        }
        body += Data("--\(boundary)--\r\n".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "multipart/form-data; boundary=\(boundary)"
        return (body, headers)
    }

    static func upload(
        _ client: some TestClientProtocol, _ route: String = "/upload/image", fields: [(String, String)] = [],
        filename: String = "photo.png", data: Data
    ) async throws -> (HTTPResponse.Status, JSONValue) {
        let (body, headers) = multipart(fields, file: ("image", filename, data))
        let (status, reply, _) = try await client.raw(route, method: .post, body: body, headers: headers)
        return (status, status == .ok ? try JSONValue.parse(reply) : .string(String(decoding: reply, as: UTF8.self)))
    }

    func testUploadNamesDuplicatesAndOverwrite() async throws {
        let harness = try ServerHarness(input: true)
        let input = harness.scratch.appendingPathComponent("input")
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        let original = try Self.fixture("original"), other = try Self.fixture("rgba")
        try await harness.run { client, _ in
            let (status, first) = try await Self.upload(client, data: original)
            XCTAssertEqual(status, .ok)
            XCTAssertEqual(
                first,
                .object([("name", .string("photo.png")), ("subfolder", .string("")), ("type", .string("input"))]))
            // Same bytes: the existing file is reused; other bytes: ComfyUI's `name (1).png`.
            let sameBytes = try await Self.upload(client, data: original).1["name"]
            XCTAssertEqual(sameBytes, .string("photo.png"))
            let otherBytes = try await Self.upload(client, data: other).1["name"]
            XCTAssertEqual(otherBytes, .string("photo (1).png"))
            let thirdBytes = try await Self.upload(client, data: try Self.fixture("mask")).1["name"]
            XCTAssertEqual(thirdBytes, .string("photo (2).png"))
            let (_, replaced) = try await Self.upload(client, fields: [("overwrite", "true")], data: other)
            XCTAssertEqual(replaced["name"], .string("photo.png"))
            let (_, nested) = try await Self.upload(
                client, "/api/upload/image", fields: [("subfolder", "clips/a"), ("type", "input")], data: original)
            XCTAssertEqual(nested["subfolder"], .string("clips/a"))

            let (viewStatus, viewed, _) = try await client.raw("/view?filename=photo.png&type=input")
            XCTAssertEqual(viewStatus, .ok)
            XCTAssertEqual(viewed, other)
            let (annotated, annotatedBody, _) = try await client.raw("/view?filename=photo%20(1).png%20%5Binput%5D")
            XCTAssertEqual(annotated, .ok)
            XCTAssertEqual(annotatedBody, other)
        }
        XCTAssertEqual(try Data(contentsOf: input.appendingPathComponent("clips/a/photo.png")), original)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: input.path).filter {
            $0.hasPrefix(OutputFile.temporaryPrefix)
        }
        XCTAssertEqual(leftovers, [])
    }

    func testUploadsAreImagesThatStayInTheirFolder() async throws {
        let harness = try ServerHarness(input: true)
        let input = harness.scratch.appendingPathComponent("input")
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: input.appendingPathComponent("out"), withDestinationURL: harness.scratch)
        let png = try Self.fixture("original")
        try await harness.run { client, _ in
            for (fields, filename, data, expected) in [
                ([], "../escape.png", png, HTTPResponse.Status.badRequest),
                ([], "/etc/escape.png", png, .badRequest),
                ([], "a\u{0}b.png", png, .badRequest),
                ([("subfolder", "../x")], "a.png", png, .badRequest),
                ([("subfolder", "/tmp")], "a.png", png, .badRequest),
                ([("subfolder", "out")], "a.png", png, .forbidden),
                ([("type", "models")], "a.png", png, .badRequest),
                ([], "a.png", Data("not an image".utf8), .badRequest),
                ([], "a.png", png.prefix(40), .badRequest),
                ([], "", png, .badRequest),
            ] as [([(String, String)], String, Data, HTTPResponse.Status)] {
                let (status, reply) = try await Self.upload(client, fields: fields, filename: filename, data: data)
                XCTAssertEqual(status, expected, "\(fields) \(filename.debugDescription): \(reply)")
            }
            // Not multipart, no boundary, a truncated body, no image part: 400s with a message.
            for (contentType, body) in [
                ("application/json", "{}"), ("multipart/form-data", "x"),
                ("multipart/form-data; boundary=abc", "--abc\r\nContent-Disposition: form-data; name=\"image\""),
                ("multipart/form-data; boundary=abc", "--abc--\r\n"),
            ] {
                var headers = HTTPFields()
                headers[.contentType] = contentType
                let (status, _, _) = try await client.raw(
                    "/upload/image", method: .post, body: Data(body.utf8), headers: headers)
                XCTAssertEqual(status, .badRequest, "\(contentType) \(body.debugDescription)")
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: harness.scratch.appendingPathComponent("a.png").path))
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: harness.scratch.appendingPathComponent("escape.png").path))
    }

    func testMaskUploadCompositesAlphaAsComfyUIDoes() async throws {
        let harness = try ServerHarness(input: true)
        let input = harness.scratch.appendingPathComponent("input")
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        try Self.fixture("original").write(to: input.appendingPathComponent("original.png"))
        try await harness.run { client, _ in
            let reference = #"{"filename": "original.png", "subfolder": "", "type": "input"}"#
            let (status, reply) = try await Self.upload(
                client, "/upload/mask", fields: [("original_ref", reference), ("type", "input")],
                filename: "clipspace-mask.png", data: try Self.fixture("mask"))
            XCTAssertEqual(status, .ok, "\(reply)")
            let saved = try ImageCodec.read(path: input.appendingPathComponent("clipspace-mask.png").path)
            let expected = try ImageCodec.decode(try Self.fixture("mask_composite"))
            XCTAssertEqual(saved.channels, 4)
            XCTAssertEqual(saved.samples, expected.samples)
            XCTAssertEqual(saved.text("prompt"), expected.text("prompt"))

            let (missing, _) = try await Self.upload(
                client, "/upload/mask", fields: [("original_ref", #"{"filename": "../x.png"}"#)],
                data: try Self.fixture("mask"))
            XCTAssertEqual(missing, .badRequest)
        }
    }

    func testViewChannelsAndPreviews() async throws {
        let harness = try ServerHarness()
        try Self.fixture("rgba").write(to: harness.outputDirectory.appendingPathComponent("rgba.png"))
        try await harness.run { client, _ in
            func image(_ query: String) async throws -> (RasterImage, String?) {
                let (status, body, headers) = try await client.raw("/view?filename=rgba.png&\(query)")
                XCTAssertEqual(status, .ok, query)
                return (try ImageCodec.decode(body), headers[.contentType])
            }
            let (rgb, rgbType) = try await image("channel=rgb")
            XCTAssertEqual(rgbType, "image/png")
            XCTAssertEqual(rgb.samples, try ImageCodec.decode(try Self.fixture("view_rgb")).samples)
            let (alpha, _) = try await image("channel=a")
            XCTAssertEqual(alpha.samples, try ImageCodec.decode(try Self.fixture("view_a")).samples)
            let (whole, _) = try await image("channel=rgba")
            XCTAssertEqual(whole.samples, try ImageCodec.decode(try Self.fixture("rgba")).samples)

            let (jpeg, jpegType) = try await image("preview=jpeg;50")
            XCTAssertEqual(jpegType, "image/jpeg")
            XCTAssertEqual([jpeg.width, jpeg.height, jpeg.channels], [7, 5, 3])
            // WebP keeps the alpha (an ALPH chunk in the RIFF container), unless `channel=rgb`.
            func webp(_ query: String) async throws -> Data {
                let (status, body, headers) = try await client.raw("/view?filename=rgba.png&\(query)")
                XCTAssertEqual(status, .ok, query)
                XCTAssertEqual(headers[.contentType], "image/webp", query)
                XCTAssertEqual(Array(body.prefix(4)), Array("RIFF".utf8), query)
                XCTAssertEqual(Array(body[8..<12]), Array("WEBP".utf8), query)
                return body
            }
            let kept = try await webp("preview=webp;90")
            XCTAssertNotNil(kept.range(of: Data("ALPH".utf8)), "the alpha is kept")
            let flat = try await webp("preview=webp&channel=rgb")
            XCTAssertNil(flat.range(of: Data("ALPH".utf8)), "channel=rgb drops the alpha")
        }
    }

    func testFreeEmptiesTheCacheBetweenPrompts() async throws {
        let harness = try ServerHarness()
        try await harness.run { client, _ in
            let (status, reply) = try await client.json(
                "/prompt", method: .post, body: .object([("prompt", try ServerHarness.tinyWorkflow())]))
            XCTAssertEqual(status, .ok)
            let id = try XCTUnwrap(reply["prompt_id"]?.stringValue)
            _ = try await client.waitForHistory(id)
            XCTAssertGreaterThan(harness.server.engine.executor.cache.count, 0)
            let (freed, _) = try await client.json(
                "/free", method: .post, body: .object([("unload_models", .bool(true)), ("free_memory", .bool(true))]))
            XCTAssertEqual(freed, .ok)
            let deadline = Date().addingTimeInterval(10)
            while harness.server.engine.executor.cache.count > 0 && Date() < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            XCTAssertEqual(harness.server.engine.executor.cache.count, 0)
        }
    }
}
