import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Removes the temporary files of writers that were killed before they renamed them. Several
/// live processes may share an output folder, so a file is removed only when the pid in its name
/// is no running process, or when it is older than any write takes (pids of other machines or
/// containers sharing the folder mean nothing here; the age covers them).
public enum TemporaryFileSweep {
    public static let defaultMaximumAge: TimeInterval = 15 * 60

    /// Sweeps `folder` and its subfolders; returns the files removed.
    @discardableResult
    public static func sweep(
        _ folder: URL, maximumAge: TimeInterval = defaultMaximumAge,
        now: Date = Date()
    ) -> [URL] {
        let keys: [URLResourceKey] = [.contentModificationDateKey]
        let files = FileManager.default
        guard let walker = files.enumerator(at: folder, includingPropertiesForKeys: keys) else { return [] }
        var removed: [URL] = []
        for case let url as URL in walker where url.lastPathComponent.hasPrefix(OutputFile.temporaryPrefix) {
            let modified = (try? url.resourceValues(forKeys: Set(keys)).contentModificationDate) ?? now
            let stale = now.timeIntervalSince(modified) > maximumAge
            guard stale || !isRunning(writerOf: url.lastPathComponent) else { continue }
            if unlink(url.path) == 0 { removed.append(url) }
        }
        return removed
    }

    /// Whether the process named in `.latentflow-tmp-<pid>-<random>` is running (an unreadable
    /// name counts as running: it is left to the age limit).
    static func isRunning(writerOf name: String) -> Bool {
        let fields = name.dropFirst(OutputFile.temporaryPrefix.count).split(separator: "-")
        guard let field = fields.first, let pid = pid_t(field), pid > 0 else { return true }
        return kill(pid, 0) == 0 || errno == EPERM
    }
}
