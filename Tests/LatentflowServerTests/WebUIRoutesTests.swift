import Foundation
import Hummingbird
import HummingbirdTesting
import Latentflow
import XCTest

@testable import LatentflowServer

/// The routes ComfyUI's web UI calls at start-up and while it is used: settings and user data
/// (persisted in the user folder as `app/user_manager.py` and `app/app_settings.py` keep them),
/// users, the static files, extensions, i18n, templates. No model runs.
final class WebUIRoutesTests: XCTestCase {
    func testSettingsPersistInTheUserFolder() async throws {
        let harness = try ServerHarness()
        try await harness.run { client, _ in
            let (empty, none) = try await client.json("/settings")
            XCTAssertEqual(empty, .ok)
            XCTAssertEqual(none, .object([]))
            let users = try await client.json("/users").json
            XCTAssertEqual(users["storage"], .string("server"))
            XCTAssertEqual(users["migrated"], .bool(false))

            let merged = JSONValue.object([("Comfy.Locale", .string("en")), ("Comfy.LinkRenderMode", .int(2))])
            let (posted, _) = try await client.json("/api/settings", method: .post, body: merged)
            XCTAssertEqual(posted, .ok)
            let (one, _) = try await client.json("/settings/Comfy.Locale", method: .post, body: .string("fr"))
            XCTAssertEqual(one, .ok)
            let stored = try await client.json("/settings").json
            XCTAssertEqual(stored["Comfy.Locale"], .string("fr"))
            XCTAssertEqual(stored["Comfy.LinkRenderMode"], .int(2))
            let linkRenderMode = try await client.json("/settings/Comfy.LinkRenderMode").json
            XCTAssertEqual(linkRenderMode, .int(2))
            let neverStored = try await client.json("/settings/Never.Stored").json
            XCTAssertEqual(neverStored, .null)
            let migrated = try await client.json("/users").json["migrated"]
            XCTAssertEqual(migrated, .bool(true))

            let (bad, _, _) = try await client.raw("/settings", method: .post, body: Data("[1,2]".utf8))
            XCTAssertEqual(bad, .badRequest)
        }
        // Not in memory only: the file ComfyUI keeps.
        let file = harness.userDirectory.appendingPathComponent("default/comfy.settings.json")
        let saved = try JSONValue.parse(Data(contentsOf: file))
        XCTAssertEqual(saved["Comfy.Locale"], .string("fr"))
    }

    func testUserDataStoreListMoveDelete() async throws {
        let harness = try ServerHarness()
        try await harness.run { client, _ in
            let workflow = Data(#"{"nodes": []}"#.utf8)
            let (stored, path, _) = try await client.raw(
                "/userdata/workflows%2Fa.json?overwrite=true&full_info=false", method: .post, body: workflow)
            XCTAssertEqual(stored, .ok)
            XCTAssertEqual(try JSONValue.parse(path), .string("workflows/a.json"))
            let (conflict, _, _) = try await client.raw(
                "/userdata/workflows%2Fa.json?overwrite=false", method: .post, body: workflow)
            XCTAssertEqual(conflict, .conflict)
            let (read, body, headers) = try await client.raw("/api/userdata/workflows%2Fa.json")
            XCTAssertEqual(read, .ok)
            XCTAssertEqual(body, workflow)
            XCTAssertEqual(headers[.contentDisposition], "attachment")

            let (_, infoBody, _) = try await client.raw(
                "/userdata/workflows%2Fsub%2Fb.json?overwrite=true&full_info=true", method: .post,
                body: Data("{}".utf8))
            let info = try JSONValue.parse(infoBody)
            XCTAssertEqual(info["path"], .string("workflows/sub/b.json"))
            XCTAssertEqual(info["size"], .int(2))
            XCTAssertNotNil(info["modified"]?.intValue)

            let flat = try await client.json("/userdata?dir=workflows").json
            XCTAssertEqual(flat, .array([.string("a.json")]))
            let recursive = try await client.json("/userdata?dir=workflows&recurse=true&split=false&full_info=true")
            XCTAssertEqual(recursive.json.arrayValue?.compactMap { $0["path"]?.stringValue }, ["a.json", "sub/b.json"])
            let split = try await client.json("/userdata?dir=workflows&recurse=true&split=true").json
            XCTAssertEqual(
                split.arrayValue?.last,
                .array([.string("sub/b.json"), .string("sub"), .string("b.json")]))
            let (missingDir, _, _) = try await client.raw("/userdata?dir=nowhere")
            XCTAssertEqual(missingDir, .notFound)
            let v2 = try await client.json("/v2/userdata?path=workflows").json
            XCTAssertEqual(v2.arrayValue?.first?["type"], .string("directory"))
            XCTAssertEqual(
                v2.arrayValue?.compactMap { $0["path"]?.stringValue },
                ["workflows/sub", "workflows/a.json", "workflows/sub/b.json"])

            let (moved, movedBody, _) = try await client.raw(
                "/userdata/workflows%2Fa.json/move/workflows%2Fc.json?overwrite=false", method: .post)
            XCTAssertEqual(moved, .ok)
            XCTAssertEqual(try JSONValue.parse(movedBody), .string("workflows/c.json"))
            let (gone, _, _) = try await client.raw("/userdata/workflows%2Fa.json")
            XCTAssertEqual(gone, .notFound)
            let (blocked, _, _) = try await client.raw(
                "/userdata/workflows%2Fc.json/move/workflows%2Fsub%2Fb.json?overwrite=false", method: .post)
            XCTAssertEqual(blocked, .conflict)
            let (deleted, _, _) = try await client.raw("/userdata/workflows%2Fc.json", method: .delete)
            XCTAssertEqual(deleted, .noContent)
            let emptied = try await client.json("/userdata?dir=workflows").json
            XCTAssertEqual(emptied, .array([]))
        }
        let kept = harness.userDirectory.appendingPathComponent("default/workflows/sub/b.json")
        XCTAssertTrue(FileManager.default.fileExists(atPath: kept.path))
    }

    func testUserDataNeverLeavesTheUserFolder() async throws {
        let harness = try ServerHarness()
        let outside = harness.scratch.appendingPathComponent("secret.json")
        try Data("secret".utf8).write(to: outside)
        let root = harness.userDirectory.appendingPathComponent("default")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: root.appendingPathComponent("link.json"), withDestinationURL: outside)
        try FileManager.default.createSymbolicLink(
            at: root.appendingPathComponent("out"), withDestinationURL: harness.scratch)
        try await harness.run { client, _ in
            for (uri, method, expected) in [
                ("/userdata/..%2Fsecret.json", HTTPRequest.Method.get, HTTPResponse.Status.badRequest),
                ("/userdata/%2Fetc%2Fpasswd", .get, .badRequest),
                ("/userdata/a%00b.json", .get, .badRequest),
                ("/userdata/link.json", .get, .forbidden),
                ("/userdata/out%2Fsecret.json", .get, .forbidden),
                ("/userdata/out%2Fnew.json", .post, .forbidden),
                ("/userdata/..%2Fnew.json", .post, .badRequest),
                ("/userdata/link.json", .delete, .forbidden),
                ("/userdata?dir=..", .get, .badRequest),
                ("/userdata?dir=out", .get, .forbidden),
                ("/userdata/x.json/move/..%2Fx.json", .post, .notFound),
            ] {
                let (status, _, _) = try await client.raw(uri, method: method, body: Data("{}".utf8))
                XCTAssertEqual(status, expected, "\(method) \(uri)")
            }
        }
        XCTAssertEqual(try String(contentsOf: outside, encoding: .utf8), "secret")
        XCTAssertFalse(FileManager.default.fileExists(atPath: harness.scratch.appendingPathComponent("new.json").path))
    }

    func testStaticFilesExtensionsAndStartupRoutes() async throws {
        let frontend = FileManager.default.temporaryDirectory.appendingPathComponent("latentflow-frontend-\(UUID())")
        try FileManager.default.createDirectory(
            at: frontend.appendingPathComponent("extensions/core"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: frontend) }
        try Data("<html>ComfyUI</html>".utf8).write(to: frontend.appendingPathComponent("index.html"))
        try Data("export {}".utf8).write(to: frontend.appendingPathComponent("extensions/core/clipspace.js"))
        try await ServerHarness(frontEndRoot: frontend).run { client, _ in
            let (status, index, _) = try await client.raw("/")
            XCTAssertEqual(status, .ok)
            XCTAssertEqual(String(decoding: index, as: UTF8.self), "<html>ComfyUI</html>")
            let (scriptStatus, _, scriptHeaders) = try await client.raw("/extensions/core/clipspace.js")
            XCTAssertEqual(scriptStatus, .ok)
            XCTAssertTrue(scriptHeaders[.contentType]?.contains("javascript") == true, "\(scriptHeaders)")
            let extensions = try await client.json("/api/extensions").json
            XCTAssertEqual(
                extensions,
                .array([.string("/extensions/core/clipspace.js"), .string("/extensions/latentflow/web-ui-compat.js")]))
            let (compatStatus, compat, _) = try await client.raw("/extensions/latentflow/web-ui-compat.js")
            XCTAssertEqual(compatStatus, .ok)
            XCTAssertTrue(String(decoding: compat, as: UTF8.self).contains("addCustomNodeDefs"))
            // The placeholders live in the web UI only: the API lists real nodes.
            let placeholderInfo = try await client.json("/object_info/ImageOnlyCheckpointLoader").json
            XCTAssertEqual(placeholderInfo, .object([]))
            let translations = try await client.json("/api/i18n").json
            XCTAssertEqual(translations, .object([]))
            let templates = try await client.json("/api/workflow_templates").json
            XCTAssertEqual(templates, .object([]))
            let templateIndex = try await client.json("/templates/index.json").json
            XCTAssertEqual(templateIndex, .array([]))
            let folders = try await client.json("/api/experiment/models").json
            XCTAssertTrue(folders.arrayValue?.contains { $0["name"] == .string("checkpoints") } == true)
            let models = try await client.json("/api/experiment/models/checkpoints").json
            XCTAssertTrue(
                models.arrayValue?.contains { $0["name"] == .string("latentflow-tiny-sd15.safetensors") } == true)
            let (missing, _, _) = try await client.raw("/no/such/file.js")
            XCTAssertEqual(missing, .notFound)
            let (escape, _, _) = try await client.raw("/..%2F..%2Fetc%2Fpasswd")
            XCTAssertNotEqual(escape, .ok)
        }
    }
}
