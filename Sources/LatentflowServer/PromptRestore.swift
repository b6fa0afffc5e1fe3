import Foundation
import Latentflow

/// What a server starts with: the queue and history its store kept from the last process.
struct RestoredQueue: Sendable {
    /// In run order: the prompt that was running when the last process died first.
    var pending: [QueuedPrompt] = []
    /// Oldest first.
    var history: [(id: String, entry: JSONValue)] = []
    /// The number counter continues past every restored prompt, so new ones queue behind them.
    var counter = 0
}

/// Why a stored prompt was not run again after a restart; its history entry carries the message.
struct RestoreFailure: Error, CustomStringConvertible {
    let description: String
}

extension LatentflowServer {
    /// Reads the store: pending prompts are queued again; a prompt that was running when the
    /// process died runs again from the start, after deleting the output files its stopped run
    /// had claimed (so it ends with one set of outputs), unless it had already begun
    /// `PromptStore.maximumAttempts` runs (then it, like one whose workflow no longer loads, is
    /// recorded as failed with the reason).
    static func restore(from store: PromptStore, engine: Engine) throws -> RestoredQueue {
        var restored = RestoredQueue()
        var failed: [(id: String, entry: JSONValue)] = []
        for stored in try store.storedQueue() {
            restored.counter = max(restored.counter, Int(min(abs(stored.number), 1e15)))
            if stored.wasRunning, stored.attempts >= PromptStore.maximumAttempts {
                let reason =
                    "the server stopped while running this prompt \(stored.attempts) times (killed or crashed);"
                    + " it is not run again"
                failed.append((stored.id, failedEntry(stored, reason: reason)))
                continue
            }
            let removed = try store.removeClaimedOutputs(of: stored.id)
            if !removed.isEmpty {
                printServerWarning(
                    "latentflow serve: prompt \(stored.id) runs again; removed what its stopped run wrote: "
                        + removed.joined(separator: ", "))
            }
            do {
                var workflow = try engine.loader.load(stored.prompt, source: "prompt \(stored.id)")
                workflow.extraPNGInfo = stored.extraData["extra_pnginfo"]
                restored.pending.append(
                    QueuedPrompt(
                        number: stored.number, id: stored.id, prompt: stored.prompt, extraData: stored.extraData,
                        outputsToExecute: stored.outputsToExecute, clientId: stored.clientId, workflow: workflow,
                        targets: stored.targets))
            } catch {
                let reason = "after a restart the stored prompt no longer loads: \(error)"
                failed.append((stored.id, failedEntry(stored, reason: reason)))
            }
        }
        for (id, entry) in failed { try store.finished(id, entry: entry) }
        restored.history = try store.storedHistory()
        return restored
    }

    /// ComfyUI's history entry for a prompt that failed before any node ran.
    static func failedEntry(_ stored: PromptStore.StoredPrompt, reason: String) -> JSONValue {
        let error = RestoreFailure(description: reason)
        let message: [(key: String, value: JSONValue)] = [
            ("prompt_id", .string(stored.id)), ("node_id", .null), ("node_type", .null), ("executed", .array([])),
            ("exception_message", .string(reason)), ("exception_type", .string(String(reflecting: type(of: error)))),
            ("traceback", .array([])), ("current_inputs", .object([])), ("current_outputs", .array([])),
            ("timestamp", .timestampNow),
        ]
        let queueJSON = JSONValue.array([
            QueuedPrompt.numberJSON(stored.number), .string(stored.id), stored.prompt, stored.extraData,
            .array(stored.outputsToExecute.map(JSONValue.string)),
        ])
        return .object([
            ("prompt", queueJSON), ("outputs", .object([])),
            (
                "status",
                .object([
                    ("status_str", .string("error")), ("completed", .bool(false)),
                    ("messages", .array([.array([.string("execution_error"), .object(message)])])),
                ])
            ),
            ("meta", .object([])),
        ])
    }
}

/// Diagnostics go to standard error, as the CLI's do.
func printServerWarning(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
