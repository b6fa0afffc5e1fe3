import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Subfolders of an output folder that stay inside it: a symlink planted in the output folder
/// must not carry saves elsewhere. The output folder itself may be a link (the user's choice).
public enum OutputFolder {
    /// `root/subfolder`, created as needed and resolved through symlinks one component at a time,
    /// so nothing is created through a link that leads outside `root` before it is refused.
    /// Files should be written into the returned (resolved) folder.
    public static func confined(_ subfolder: String, in root: URL) throws -> URL {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        guard let base = realPath(root.path) else { throw OutputFile.systemError("cannot open \(root.path)") }
        var current = base
        for component in subfolder.split(separator: "/", omittingEmptySubsequences: true) where component != "." {
            let next = current + "/" + component
            if mkdir(next, 0o777) != 0 && errno != EEXIST { throw OutputFile.systemError("cannot create \(next)") }
            guard let resolved = realPath(next) else {
                throw OutputFileError.leavesFolder(subfolder: subfolder, target: "a dangling link at \(next)")
            }
            guard resolved == base || resolved.hasPrefix(base == "/" ? "/" : base + "/") else {
                throw OutputFileError.leavesFolder(subfolder: subfolder, target: resolved)
            }
            current = resolved
        }
        return URL(fileURLWithPath: current, isDirectory: true)
    }

    /// The path with every symlink resolved, or nil when it does not exist.
    public static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
