import Foundation
import Latentflow

/// `latentflow run --preview DIR`: each step preview as `DIR/<node>_<step>.jpg` (with the
/// workflow's name in front when several run), written whole, so an image viewer watching the
/// folder never shows a half-written file.
struct PreviewWriter: Sendable {
    let folder: URL

    init(folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        self.folder = folder
    }

    func handle(_ event: ExecutionEvent, prefix: String) {
        guard case let .preview(nodeId, step, _, jpeg) = event else { return }
        let url = folder.appendingPathComponent(Self.fileName(prefix + nodeId, step: step))
        do {
            try OutputFile.replace(url, with: jpeg)
        } catch {
            printError("warning: preview not written: \(error)")
        }
    }

    /// Node ids of subgraphs hold `:`; anything but letters, digits, `-` and `.` becomes `_`.
    static func fileName(_ stem: String, step: Int) -> String {
        let safe = String(stem.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") ? $0 : "_" })
        return "\(safe)_\(step).jpg"
    }
}
