import Foundation
import Hummingbird
import Latentflow

/// Names from requests resolved inside one folder (output, input, temp, the user's data), never
/// outside it: `..`, absolute paths, `~`, backslashes and NUL are refused (400), and so are
/// symlinks that lead out of the folder (403).
enum ConfinedPath {
    static func escapes(_ name: String) -> Bool {
        name.hasPrefix("/") || name.hasPrefix("~") || name.contains("\0") || name.contains("\\")
            || name.split(separator: "/", omittingEmptySubsequences: false).contains("..")
    }

    static func checkRelative(_ names: String...) throws {
        for name in names where escapes(name) {
            throw HTTPError(.badRequest, message: "'\(name)': names must be relative paths inside the folder")
        }
    }

    /// True when `url`, with its symlinks resolved, is `root` or lies inside it.
    static func isInside(_ url: URL, root: URL) -> Bool {
        let base = OutputFolder.realPath(root.path) ?? root.standardizedFileURL.path
        let resolved = url.standardizedFileURL.resolvingSymlinksInPath().path
        return resolved == base || resolved.hasPrefix(base == "/" ? "/" : base + "/")
    }

    /// An existing file (not a folder) at `root/relative`: 400, 403 or 404 otherwise.
    static func existingFile(_ relative: String, in root: URL) throws -> URL {
        try checkRelative(relative)
        guard !relative.isEmpty else { throw HTTPError(.badRequest, message: "a file name is required") }
        let file = root.appendingPathComponent(relative).standardizedFileURL
        guard isInside(file, root: root) else {
            throw HTTPError(.forbidden, message: "'\(relative)' leaves its folder")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file.path, isDirectory: &isDirectory), !isDirectory.boolValue
        else { throw HTTPError(.notFound, message: "'\(relative)' not found") }
        return file
    }

    /// The folder `root/subfolder`, created as needed through no link that leaves `root`.
    static func folderForWriting(_ subfolder: String, in root: URL) throws -> URL {
        try checkRelative(subfolder)
        do {
            return try OutputFolder.confined(subfolder, in: root)
        } catch let error as OutputFileError {
            throw HTTPError(.forbidden, message: "'\(subfolder)': \(error)")
        }
    }

    /// `root/relative` to write: its folder created inside `root`; the last component is a plain
    /// name (a link there is replaced, not followed, by the atomic rename that writes it).
    static func fileForWriting(_ relative: String, in root: URL) throws -> URL {
        try checkRelative(relative)
        let parts = relative.split(separator: "/").filter { $0 != "." }
        guard let name = parts.last else { throw HTTPError(.badRequest, message: "a file name is required") }
        let folder = try folderForWriting(parts.dropLast().joined(separator: "/"), in: root)
        return folder.appendingPathComponent(String(name))
    }
}
