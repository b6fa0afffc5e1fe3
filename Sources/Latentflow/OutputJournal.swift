import Foundation
import LatentflowGraph
import LatentflowIO

/// The output files a batch workflow has written so far, on disk as each output node finishes,
/// so a resume after a kill knows which files belong to the attempt it repeats.
final class OutputJournal: @unchecked Sendable {
    let file: URL
    let outputDirectory: URL
    private var files: [String] = []
    private let lock = NSLock()

    init(file: URL, outputDirectory: URL) {
        (self.file, self.outputDirectory) = (file, outputDirectory)
    }

    /// Records the output-folder files named by a finished node's UI entries (`images`, `latents`).
    func note(_ event: ExecutionEvent) {
        guard case let .nodeFinished(_, _, ui?) = event else { return }
        let written = (ui.objectPairs ?? []).flatMap { $0.value.arrayValue ?? [] }.compactMap { entry -> String? in
            guard entry["type"]?.stringValue == "output", let name = entry["filename"]?.stringValue else { return nil }
            let subfolder = entry["subfolder"]?.stringValue ?? ""
            // Only names inside the output folder: a resume deletes what is listed here.
            guard
                (try? ModelPaths.checkRelativeName(
                    subfolder.isEmpty ? name : subfolder + "/" + name,
                    folder: "output")) != nil
            else { return nil }
            return (subfolder.isEmpty ? outputDirectory : outputDirectory.appendingPathComponent(subfolder))
                .appendingPathComponent(name).path
        }
        guard !written.isEmpty else { return }
        lock.lock()
        defer { lock.unlock() }
        files += written
        try? OutputFile.replace(file, with: Data(JSONValue.array(files.map(JSONValue.string)).serialized().utf8))
    }

    /// The workflow completed: its record now lists the files.
    func finish() { unlink(file.path) }

    /// Deletes what an unfinished earlier attempt wrote, and its journal.
    func removeRecordedFiles() {
        for path in BatchRunner.recordedFiles(file) ?? [] { unlink(path) }
        unlink(file.path)
    }
}
