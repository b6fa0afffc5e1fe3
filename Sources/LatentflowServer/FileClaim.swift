import Foundation
import Hummingbird
import Latentflow

/// Writing a file under a name only if the name is free, without a window in which two writers
/// both think it is: the bytes go to a temporary file (complete and flushed), then a hard link
/// claims the name, which fails when it is taken.
enum FileClaim {
    static let noSniffHeader = HTTPFields.Element.Name("X-Content-Type-Options") ?? .contentType

    /// `OutputFile.replace`, with a name that cannot be written (a folder there, say) as a 400.
    static func replace(_ url: URL, with data: Data) throws {
        do {
            try OutputFile.replace(url, with: data)
        } catch let error as OutputFileError {
            throw HTTPError(.badRequest, message: "cannot write '\(url.lastPathComponent)': \(error)")
        }
    }

    /// True when `url` now holds `data`; false when the name was already taken.
    static func claim(_ url: URL, with data: Data) throws -> Bool {
        let folder = url.deletingLastPathComponent()
        let random = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let temporary = folder.appendingPathComponent("\(OutputFile.temporaryPrefix)\(getpid())-\(random)")
        try OutputFile.replace(temporary, with: data)
        defer { unlink(temporary.path) }
        if link(temporary.path, url.path) == 0 { return true }
        if errno == EEXIST { return false }
        throw HTTPError(.internalServerError, message: "cannot write '\(url.lastPathComponent)'")
    }

    /// `name.png`, then ComfyUI's `name (1).png`, `name (2).png`, ...: the first that is free,
    /// claimed atomically; or the existing file when its bytes are already `data`
    /// (`compare_image_hash` in ComfyUI's `image_upload`).
    static func claimFirstFree(_ name: String, in folder: URL, with data: Data) throws -> String {
        let stem = (name as NSString).deletingPathExtension
        let pathExtension = (name as NSString).pathExtension
        for counter in 0..<100_000 {
            let candidate =
                counter == 0
                ? name : "\(stem) (\(counter))" + (pathExtension.isEmpty ? "" : ".\(pathExtension)")
            let url = folder.appendingPathComponent(candidate)
            if FileManager.default.contents(atPath: url.path) == data { return candidate }
            if try claim(url, with: data) { return candidate }
        }
        throw HTTPError(.conflict, message: "no free name for '\(name)'")
    }
}
