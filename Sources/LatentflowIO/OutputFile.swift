import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Output files that never overwrite one another and are never seen half-written, even with
/// several processes saving the same prefix into one folder at once.
///
/// The bytes go to a temporary file first (`.latentflow-tmp-<pid>-<random>`, flushed to disk);
/// then a hard link claims the final name, which fails rather than replaces when the name is
/// taken, so the caller moves on to the next counter. A final name therefore only ever appears
/// complete. File systems without hard links get an exclusive-create placeholder instead, which
/// the finished temporary file is renamed over.
public enum OutputFile {
    /// Every temporary file starts with this, then `<pid>-<random>`, so a sweep can tell whose it is.
    public static let temporaryPrefix = ".latentflow-tmp-"

    /// Told about every final name `create` claims in this task (and its child tasks), before the
    /// claim: a server records it with the prompt that is running, so that after a `kill -9` it
    /// can tell that prompt's files from everyone else's.
    @TaskLocal public static var claimRecorder: (any OutputClaimRecorder)?

    /// Writes `data` under the first free `name(counter)` for counters from `start` up; returns
    /// the file and the counter it took.
    public static func create(
        _ data: Data, in folder: URL, startingAt start: Int,
        name: (Int) -> String
    ) throws -> (url: URL, counter: Int) {
        let temporary = try writeTemporary(data, in: folder)
        defer { unlink(temporary.path) }
        let recorder = claimRecorder
        let identity = try recorder.map { _ in try FileIdentity(of: temporary) }
        var counter = start
        while true {
            let url = folder.appendingPathComponent(name(counter))
            // The name is recorded before it can exist, with the identity it will have: a record
            // whose file is missing, or is another file, claimed nothing.
            if let recorder, let identity { try recorder.willClaim(url, as: identity) }
            if try claim(url, with: temporary) {
                recorder?.didClaim(url)
                return (url, counter)
            }
            counter += 1
        }
    }

    /// Replaces `url` with `data` in one step (for files meant to be rewritten, like records).
    public static func replace(_ url: URL, with data: Data) throws {
        let temporary = try writeTemporary(data, in: url.deletingLastPathComponent())
        guard rename(temporary.path, url.path) == 0 else {
            let error = systemError("cannot write \(url.path)")
            unlink(temporary.path)
            throw error
        }
    }

    /// True when `url` now holds the temporary file's bytes; false when the name was taken.
    static func claim(_ url: URL, with temporary: URL) throws -> Bool {
        if link(temporary.path, url.path) == 0 { return true }
        switch errno {
        case EEXIST: return false
        case EPERM, EXDEV, EMLINK, ENOSYS, EOPNOTSUPP: break  // no hard links here: use a placeholder
        default: throw systemError("cannot write \(url.path)")
        }
        let placeholder = open(url.path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o666)
        if placeholder < 0 {
            if errno == EEXIST { return false }
            throw systemError("cannot write \(url.path)")
        }
        close(placeholder)
        guard rename(temporary.path, url.path) == 0 else {
            let error = systemError("cannot write \(url.path)")
            unlink(url.path)
            throw error
        }
        return true
    }

    /// A new temporary file in `folder` holding `data`, flushed to disk before it is named finally.
    static func writeTemporary(_ data: Data, in folder: URL) throws -> URL {
        let random = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let url = folder.appendingPathComponent("\(temporaryPrefix)\(getpid())-\(random)")
        let fd = open(url.path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw systemError("cannot create a file in \(folder.path)") }
        defer { close(fd) }
        let written = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return false }
                offset += n
            }
            return true
        }
        guard written, fsync(fd) == 0 else {
            let error = systemError("cannot write \(url.path)")
            unlink(url.path)
            throw error
        }
        return url
    }

    static func systemError(_ what: String) -> OutputFileError {
        .system("\(what): \(String(cString: strerror(errno)))")
    }
}

/// Sees the names `OutputFile.create` claims (see `OutputFile.claimRecorder`).
public protocol OutputClaimRecorder: Sendable {
    /// `url` is about to be claimed; if the claim succeeds it is the file `identity` names. A
    /// throw stops the save before the name is taken.
    func willClaim(_ url: URL, as identity: FileIdentity) throws
    /// `url` now holds the bytes (complete and flushed).
    func didClaim(_ url: URL)
}

/// Which file a path holds: a claimed name is a hard link to (or a rename of) the temporary file,
/// so it has the temporary file's device and inode; the size guards against a reused inode.
public struct FileIdentity: Sendable, Hashable {
    public let device: UInt64
    public let inode: UInt64
    public let size: Int64

    public init(device: UInt64, inode: UInt64, size: Int64) {
        (self.device, self.inode, self.size) = (device, inode, size)
    }

    /// The identity of the file at `url` itself (a symlink is not followed).
    public init(of url: URL) throws {
        var info = stat()
        guard lstat(url.path, &info) == 0 else { throw OutputFile.systemError("cannot read \(url.path)") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw OutputFileError.system("\(url.path) is not a file") }
        self.init(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size))
    }

    /// Whether `url` is this file now.
    public func matches(_ url: URL) -> Bool { (try? FileIdentity(of: url)) == self }
}

public enum OutputFileError: Error, CustomStringConvertible, Equatable {
    /// `subfolder` resolves (through a symlink) to `target`, outside the folder it must stay in.
    case leavesFolder(subfolder: String, target: String)
    case system(String)

    public var description: String {
        switch self {
        case let .leavesFolder(subfolder, target): return "'\(subfolder)' resolves to \(target)"
        case let .system(message): return message
        }
    }
}
