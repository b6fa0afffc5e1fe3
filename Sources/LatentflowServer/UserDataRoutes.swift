import Foundation
import Hummingbird
import Latentflow

/// The user routes of ComfyUI's `app/user_manager.py` (single-user mode): `/users`, `/userdata`
/// listing, reading, writing, deleting and moving files, and `/v2/userdata`. The web UI keeps its
/// workflows, subgraph blueprints and key bindings here.
extension LatentflowServer {
    func addUserDataRoutes(to router: Router<ServerRequestContext>, prefix: String) {
        router.get("\(prefix)/users") { _, _ in
            JSONResponse.make(
                .object([
                    ("storage", .string("server")),
                    ("migrated", .bool(FileManager.default.fileExists(atPath: self.userData.userRoot.path))),
                ]))
        }
        router.post("\(prefix)/users") { _, _ in
            // Without --multi-user, ComfyUI's web UI never creates users; neither do we.
            JSONResponse.make(.object([("error", .string("multi-user mode is not enabled"))]), status: .badRequest)
        }
        router.get("\(prefix)/userdata") { request, _ in try self.listUserData(request) }
        router.get("\(prefix)/v2/userdata") { request, _ in
            try self.listUserDataV2(path: request.uri.queryParameters.get("path") ?? "")
        }
        router.get("\(prefix)/userdata/:file") { _, context in
            let file = try ConfinedPath.existingFile(
                try Self.pathParameter("file", context), in: self.userData.userRoot)
            return try Self.userFileResponse(file, isUserCSS: file.lastPathComponent == "user.css")
        }
        router.post("\(prefix)/userdata/:file") { request, context in
            try await self.storeUserData(request, context: context)
        }
        router.delete("\(prefix)/userdata/:file") { _, context in
            let file = try ConfinedPath.existingFile(
                try Self.pathParameter("file", context), in: self.userData.userRoot)
            try FileManager.default.removeItem(at: file)
            return Response(status: .noContent)
        }
        router.post("\(prefix)/userdata/:file/move/:dest") { request, context in
            try self.moveUserData(request, context: context)
        }
    }

    /// A `{file}` segment: the web UI percent-encodes slashes in it (`workflows%2Fa.json`).
    static func pathParameter(_ name: String, _ context: ServerRequestContext) throws -> String {
        let raw = context.parameters.get(name) ?? ""
        guard let decoded = raw.removingPercentEncoding, !decoded.isEmpty else {
            throw HTTPError(.badRequest, message: "'\(name)' is missing or badly encoded")
        }
        return decoded
    }

    /// `GET /userdata?dir=&recurse=&full_info=&split=`: the files of one folder, as relative paths,
    /// `FileInfo` objects, or `[path, component...]` lists.
    func listUserData(_ request: Request) throws -> Response {
        let query = request.uri.queryParameters
        let directory = String(query.get("dir") ?? "")
        guard !directory.isEmpty else { throw HTTPError(.badRequest, message: "Directory not provided") }
        try ConfinedPath.checkRelative(directory)
        let folder = userData.userRoot.appendingPathComponent(directory).standardizedFileURL
        guard ConfinedPath.isInside(folder, root: userData.userRoot) else {
            throw HTTPError(.forbidden, message: "Invalid directory")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue
        else { throw HTTPError(.notFound, message: "Directory not found") }
        let recurse = query.get("recurse")?.lowercased() == "true"
        let fullInfo = query.get("full_info")?.lowercased() == "true"
        let split = query.get("split")?.lowercased() == "true"
        let entries: [JSONValue] = userData.files(in: folder, recursive: recurse).map { file in
            if fullInfo { return UserData.fileInfo(file, relativeTo: folder) }
            let relative = UserData.relativePath(file, in: folder)
            if split {
                return .array(
                    [.string(relative)] + relative.split(separator: "/").map { JSONValue.string(String($0)) })
            }
            return .string(relative)
        }
        return JSONResponse.make(.array(entries))
    }

    /// `GET /v2/userdata?path=`: folders first, then files, each `{name, path, type[, size, modified]}`.
    func listUserDataV2(path: String) throws -> Response {
        try ConfinedPath.checkRelative(path)
        let root = userData.userRoot
        let folder = root.appendingPathComponent(path).standardizedFileURL
        guard ConfinedPath.isInside(folder, root: root) else { throw HTTPError(.badRequest, message: "Invalid path") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory) else {
            if path.isEmpty { return JSONResponse.make(.array([])) }
            throw HTTPError(.notFound, message: "Requested path not found")
        }
        guard isDirectory.boolValue else { throw HTTPError(.badRequest, message: "Requested path is not a directory") }
        var folders: [(String, JSONValue)] = []
        var files: [(String, JSONValue)] = []
        let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)
        while let url = walker?.nextObject() as? URL {
            guard ConfinedPath.isInside(url, root: root) else { continue }
            let name = url.lastPathComponent
            let relative = UserData.relativePath(url, in: root)
            var entryIsDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: url.path, isDirectory: &entryIsDirectory)
            if entryIsDirectory.boolValue {
                folders.append(
                    (
                        name,
                        .object([("name", .string(name)), ("path", .string(relative)), ("type", .string("directory"))])
                    ))
            } else {
                let info = UserData.fileInfo(url, relativeTo: root)
                let modifiedSeconds = Double(info["modified"]?.doubleValue ?? 0) / 1000
                files.append(
                    (
                        name,
                        .object([
                            ("name", .string(name)), ("path", .string(relative)), ("type", .string("file")),
                            ("size", info["size"] ?? .int(0)), ("modified", .double(modifiedSeconds)),
                        ])
                    ))
            }
        }
        let sorted =
            (folders.sorted { $0.0.lowercased() < $1.0.lowercased() })
            + (files.sorted { $0.0.lowercased() < $1.0.lowercased() })
        return JSONResponse.make(.array(sorted.map(\.1)))
    }

    /// `POST /userdata/{file}?overwrite=&full_info=`: the body becomes the file (409 when it exists
    /// and overwrite is false); answers its relative path or `FileInfo`.
    func storeUserData(_ request: Request, context: ServerRequestContext) async throws -> Response {
        let relative = try Self.pathParameter("file", context)
        let file = try ConfinedPath.fileForWriting(relative, in: userData.userRoot)
        let query = request.uri.queryParameters
        let overwrite = query.get("overwrite") != "false"
        let fullInfo = query.get("full_info")?.lowercased() == "true"
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        let data = Data(body.readableBytesView)
        if overwrite {
            try FileClaim.replace(file, with: data)
        } else if try !FileClaim.claim(file, with: data) {
            throw HTTPError(.conflict, message: "File already exists")
        }
        return userFileAnswer(file, fullInfo: fullInfo)
    }

    /// `POST /userdata/{file}/move/{dest}?overwrite=&full_info=`.
    func moveUserData(_ request: Request, context: ServerRequestContext) throws -> Response {
        let root = userData.userRoot
        let source = try ConfinedPath.existingFile(try Self.pathParameter("file", context), in: root)
        let destination = try ConfinedPath.fileForWriting(try Self.pathParameter("dest", context), in: root)
        let query = request.uri.queryParameters
        let overwrite = query.get("overwrite") != "false"
        if overwrite {
            guard rename(source.path, destination.path) == 0 else {
                throw HTTPError(
                    .badRequest, message: "cannot move to '\(UserData.relativePath(destination, in: root))'")
            }
        } else {
            // A hard link claims the name only if it is free, then the old name goes: no race with another writer.
            guard link(source.path, destination.path) == 0 else {
                if errno == EEXIST { throw HTTPError(.conflict, message: "File already exists") }
                throw HTTPError(
                    .badRequest, message: "cannot move to '\(UserData.relativePath(destination, in: root))'")
            }
            unlink(source.path)
        }
        return userFileAnswer(destination, fullInfo: query.get("full_info")?.lowercased() == "true")
    }

    func userFileAnswer(_ file: URL, fullInfo: Bool) -> Response {
        let root = userData.userRoot
        return JSONResponse.make(
            fullInfo ? UserData.fileInfo(file, relativeTo: root) : .string(UserData.relativePath(file, in: root)))
    }

    /// User files are arbitrary content: downloaded, never rendered in the app's origin
    /// (ComfyUI's guard against stored XSS), except the user's own `user.css`.
    static func userFileResponse(_ file: URL, isUserCSS: Bool) throws -> Response {
        let data = try Data(contentsOf: file)
        var headers = HTTPFields()
        let type = contentType(forExtension: file.pathExtension)
        headers[.contentType] =
            isUserCSS ? "text/css" : (type == "application/json" ? type : "application/octet-stream")
        headers[.contentDisposition] = isUserCSS ? "inline" : "attachment"
        headers[FileClaim.noSniffHeader] = "nosniff"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
