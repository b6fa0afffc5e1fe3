import Foundation
import Latentflow

/// Turns execution events into a progress bar on a terminal, or plain lines otherwise.
final class ProgressPrinter: @unchecked Sendable {
    private let interactive = isatty(STDERR_FILENO) != 0
    private let quiet: Bool
    private let lock = NSLock()
    private var stepStart: [String: Date] = [:]
    private var label: String

    init(label: String, quiet: Bool) {
        self.label = label
        self.quiet = quiet
    }

    func handle(_ event: ExecutionEvent) {
        guard !quiet else { return }
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .started, .finished, .preview:
            break
        case .cached(let ids):
            printError("\(label)cached: \(ids.joined(separator: ", "))")
        case let .nodeStarted(id, classType):
            printError("\(label)node \(id) (\(classType))")
        case let .progress(id, step, total):
            let start = stepStart[id] ?? Date()
            if step <= 1 { stepStart[id] = start }
            let elapsed = Date().timeIntervalSince(start)
            let eta = step > 0 ? elapsed / Double(step) * Double(total - step) : 0
            if interactive {
                let width = 30, filled = total > 0 ? width * step / total : 0
                let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
                FileHandle.standardError.write(
                    Data(String(format: "\r  %@ %d/%d  %.1fs elapsed, ETA %.1fs", bar, step, total, elapsed, eta).utf8))
                if step == total { FileHandle.standardError.write(Data("\n".utf8)) }
            } else {
                printError(String(format: "\(label)  step %d/%d (%.1fs, ETA %.1fs)", step, total, elapsed, eta))
            }
        case let .nodeFinished(id, _, _):
            stepStart[id] = nil
        case let .warning(id, message):
            printError("\(label)warning (node \(id)): \(message)")
        case let .failed(id, classType, message):
            printError("\(label)error in node \(id) (\(classType)): \(message)")
        case .cancelled(let id):
            printError("\(label)cancelled" + (id.map { " at node \($0)" } ?? ""))
        case .imageFrame(let id, _):
            printError("\(label)node \(id) sent an image to a server client; the command line has none (use SaveImage)")
        }
    }
}
