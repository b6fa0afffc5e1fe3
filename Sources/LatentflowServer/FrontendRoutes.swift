import Foundation
import Hummingbird
import Latentflow

/// What ComfyUI's web UI (the `comfyui-frontend-package` wheel's `static` folder) asks for
/// besides the API proper: its extension scripts, translations and templates of custom nodes
/// (none here), the model browser's `/experiment/models`, and the `/internal` routes of its log
/// and folder panels. The static files themselves are served by a `FileMiddleware` over the
/// folder (`makeRouter`).
extension LatentflowServer {
    func addFrontendRoutes(to router: Router<ServerRequestContext>, prefix: String) {
        // server.py's get_extensions: every `extensions/**/*.js` of the web root, as URLs.
        router.get("\(prefix)/extensions") { _, _ in JSONResponse.make(.array(self.frontendExtensionScripts())) }
        // Custom nodes' translations and templates: there are no custom nodes.
        router.get("\(prefix)/i18n") { _, _ in JSONResponse.make(.object([])) }
        router.get("\(prefix)/workflow_templates") { _, _ in JSONResponse.make(.object([])) }
        router.get("\(prefix)/experiment/models") { _, _ in
            JSONResponse.make(
                .array(
                    ModelPaths.modelKinds.map { kind in
                        .object([
                            ("name", .string(kind)),
                            ("folders", .array(self.engine.paths.searchPaths(for: kind).map(JSONValue.string))),
                        ])
                    }))
        }
        router.get("\(prefix)/experiment/models/:folder") { _, context in
            let folder = context.parameters.get("folder") ?? ""
            guard ModelPaths.modelKinds.contains(folder) else { throw HTTPError(.notFound) }
            return JSONResponse.make(
                .array(
                    self.engine.paths.files(in: folder).map {
                        .object([("name", .string($0)), ("pathIndex", .int(0))])
                    }))
        }
    }

    /// Routes outside `/api`: the index of ComfyUI's own workflow templates (a separate wheel,
    /// not shipped: an empty list, which the UI shows as no templates) and `/internal`.
    func addFrontendFileRoutes(to router: Router<ServerRequestContext>) {
        router.get(RouterPath(WebUICompatExtension.path)) { _, _ in WebUICompatExtension.response() }
        router.get("/templates/index.json") { _, _ in JSONResponse.make(.array([])) }
        router.get("/internal/logs") { _, _ in JSONResponse.make(.string("")) }
        router.get("/internal/logs/raw") { _, _ in
            JSONResponse.make(
                .object([
                    ("size", .object([("cols", .int(80)), ("rows", .int(24))])), ("entries", .array([])),
                ]))
        }
        router.patch("/internal/logs/subscribe") { _, _ in Response(status: .ok) }
        router.get("/internal/folder_paths") { _, _ in
            JSONResponse.make(
                .object(
                    (ModelPaths.modelKinds + ["input"]).map { kind in
                        (kind, .array(self.engine.paths.searchPaths(for: kind).map(JSONValue.string)))
                    }))
        }
    }

    func frontendExtensionScripts() -> [JSONValue] {
        guard let root = configuration.frontEndRoot else { return [] }
        let compat = JSONValue.string(WebUICompatExtension.path)
        let folder = root.appendingPathComponent("extensions")
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else {
            return []
        }
        var scripts: [String] = []
        for case let url as URL in walker where url.pathExtension == "js" {
            scripts.append("/" + UserData.relativePath(url, in: root))
        }
        return scripts.sorted().map(JSONValue.string) + [compat]
    }
}

/// Where the web UI's files are: `--front-end-root`, else the `comfyui_frontend_package` of the
/// Python on the PATH (`pip install comfyui-frontend-package==1.27.10`, the version ComfyUI
/// v0.3.64 pins), else nowhere (the API alone).
public enum FrontendLocator {
    public static let pinnedVersion = "1.27.10"

    public static func locate(explicit: String?) throws -> URL? {
        if let explicit {
            let url = URL(fileURLWithPath: explicit)
            guard FileManager.default.fileExists(atPath: url.appendingPathComponent("index.html").path) else {
                throw ConfigurationError("--front-end-root \(explicit): no index.html there")
            }
            return url
        }
        return pythonPackageStatic()
    }

    /// The `static` folder of an installed `comfyui_frontend_package`, asked of `python3`.
    static func pythonPackageStatic() -> URL? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            "import comfyui_frontend_package, os; print(os.path.join(os.path.dirname(comfyui_frontend_package.__file__), 'static'))",
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let path = String(data: output, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
            FileManager.default.fileExists(atPath: path + "/index.html")
        else { return nil }
        return URL(fileURLWithPath: path)
    }
}
