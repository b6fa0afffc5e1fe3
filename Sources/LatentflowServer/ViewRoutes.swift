import Foundation
import Hummingbird
import Latentflow

/// `GET /view?filename=&subfolder=&type=`: a file of the output, input or temp folder, never
/// anything outside it.
extension LatentflowServer {
    func addViewRoutes(to router: Router<ServerRequestContext>, prefix: String) {
        router.get("\(prefix)/view") { request, _ in
            let query = request.uri.queryParameters
            let file = try self.viewableFile(
                filename: query.get("filename") ?? "", subfolder: query.get("subfolder") ?? "",
                type: query.get("type") ?? "output")
            let data = try Data(contentsOf: file)
            var headers = HTTPFields()
            headers[.contentType] = Self.contentType(forExtension: file.pathExtension)
            let name = file.lastPathComponent.replacingOccurrences(of: "\"", with: "")
            headers[.contentDisposition] = "filename=\"\(name)\""
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        }
    }

    /// The folder behind a `type`: ComfyUI's output, input and temp directories.
    func folder(ofType type: String) -> URL? {
        switch type {
        case "output": return engine.paths.outputDirectory
        case "input": return engine.paths.searchPaths(for: "input").first.map(URL.init(fileURLWithPath:))
        case "temp": return engine.executor.environment.tempDirectory
        default: return nil
        }
    }

    /// 400 for names that try to leave the folder, 403 for links that do, 404 for missing files.
    func viewableFile(filename: String, subfolder: String, type: String) throws -> URL {
        guard let root = folder(ofType: type) else { throw HTTPError(.badRequest, message: "unknown type '\(type)'") }
        for part in [filename, subfolder] where Self.escapes(part) {
            throw HTTPError(.badRequest, message: "file names must be relative paths inside the folder")
        }
        guard !filename.isEmpty else { throw HTTPError(.badRequest, message: "filename is required") }
        let file = root.appendingPathComponent(subfolder).appendingPathComponent(filename).standardizedFileURL
        // Symlinks inside the folder may point within it; anything resolving outside is refused.
        let resolvedRoot = root.resolvingSymlinksInPath().path
        let resolved = file.resolvingSymlinksInPath().path
        guard resolved.hasPrefix(resolvedRoot + "/") else { throw HTTPError(.forbidden) }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw HTTPError(.notFound)
        }
        return file
    }

    static func escapes(_ name: String) -> Bool {
        name.hasPrefix("/") || name.hasPrefix("~") || name.contains("\0") || name.contains("\\")
            || name.split(separator: "/", omittingEmptySubsequences: false).contains("..")
    }

    static func contentType(forExtension pathExtension: String) -> String {
        switch pathExtension.lowercased() {
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        case "webp": return "image/webp"
        case "gif": return "image/gif"
        case "json": return "application/json"
        case "txt": return "text/plain"
        default: return "application/octet-stream"
        }
    }
}
