import Foundation
import Hummingbird
import Latentflow

/// The user folder as ComfyUI keeps it (`app/user_manager.py`): one user, `default`, whose files
/// (workflows, templates, `comfy.settings.json`) live in `<user directory>/default`. Writes
/// replace files in one step, so a reader never sees half a workflow.
struct UserData: Sendable {
    /// ComfyUI without `--multi-user` serves everyone as this user, whatever `Comfy-User` says.
    static let defaultUser = "default"
    /// `app/app_settings.py`: the settings of one user, a JSON object.
    static let settingsFile = "comfy.settings.json"

    /// `<base>/user` unless configured (ComfyUI's `--user-directory`).
    let directory: URL
    var userRoot: URL { directory.appendingPathComponent(Self.defaultUser) }

    /// One file's `FileInfo` as `get_file_info` reports it: path relative to `base`, size, and
    /// modified / created times in milliseconds.
    static func fileInfo(_ url: URL, relativeTo base: URL) -> JSONValue {
        let attributes = (try? FileManager.default.attributesOfItem(atPath: url.path)) ?? [:]
        let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
        let modified = (attributes[.modificationDate] as? Date) ?? Date(timeIntervalSince1970: 0)
        let created = (attributes[.creationDate] as? Date) ?? modified
        return .object([
            ("path", .string(relativePath(url, in: base))), ("size", .int(size)),
            ("modified", .int(Int64(modified.timeIntervalSince1970 * 1000))),
            ("created", .int(Int64(created.timeIntervalSince1970 * 1000))),
        ])
    }

    static func relativePath(_ url: URL, in base: URL) -> String {
        let path = url.standardizedFileURL.path
        let prefix = base.standardizedFileURL.path + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : url.lastPathComponent
    }

    /// The files under `folder` (recursively or not), sorted, never through a link that leaves the user root.
    func files(in folder: URL, recursive: Bool) -> [URL] {
        let manager = FileManager.default
        var found: [URL] = []
        if recursive {
            guard let walker = manager.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey]) else {
                return []
            }
            for case let url as URL in walker where isPlainFile(url) { found.append(url) }
        } else {
            let entries = (try? manager.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? []
            found = entries.filter(isPlainFile)
        }
        return found.sorted { $0.path < $1.path }
    }

    private func isPlainFile(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && !isDirectory.boolValue
            && ConfinedPath.isInside(url, root: userRoot)
    }
}

/// Settings reads and writes, one at a time: `POST /settings` merges into what is stored, and two
/// at once must not lose either's keys.
actor SettingsStore {
    let file: URL

    init(userData: UserData) { file = userData.userRoot.appendingPathComponent(UserData.settingsFile) }

    /// The stored object; `{}` when there is none yet or it is not a JSON object.
    func all() -> JSONValue {
        guard let data = FileManager.default.contents(atPath: file.path), let value = try? JSONValue.parse(data),
            value.objectPairs != nil
        else { return .object([]) }
        return value
    }

    /// `{**settings, **new}` (app_settings.py's `post_settings`).
    func merge(_ new: JSONValue) throws {
        guard let pairs = new.objectPairs else {
            throw HTTPError(.badRequest, message: "settings must be a JSON object")
        }
        var settings = all()
        for (key, value) in pairs { settings = settings.setting(key, value) }
        try save(settings)
    }

    func set(_ id: String, _ value: JSONValue) throws { try save(all().setting(id, value)) }

    private func save(_ settings: JSONValue) throws {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try OutputFile.replace(file, with: Data(settings.serialized().utf8))
    }
}
