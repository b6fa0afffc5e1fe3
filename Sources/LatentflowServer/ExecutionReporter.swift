import Foundation
import Latentflow

/// Turns one prompt's engine events into ComfyUI's WebSocket messages for the submitting client,
/// and remembers what the history entry needs (status messages, UI outputs, what ran). Called from
/// the engine's synchronous event callback, on whatever thread runs the node: hence the lock.
final class ExecutionReporter: @unchecked Sendable {
    private let prompt: QueuedPrompt
    private let hub: WebSocketHub
    private let lock = NSLock()
    private var cachedReported = false
    private var executed: [String] = []
    private var outputs: [(key: String, value: JSONValue)] = []
    /// `[[event, data], ...]` for the history entry's `status.messages`.
    private var statusMessages: [JSONValue] = []

    init(prompt: QueuedPrompt, hub: WebSocketHub) {
        (self.prompt, self.hub) = (prompt, hub)
    }

    private var promptId: JSONValue { .string(prompt.id) }

    func handle(_ event: ExecutionEvent) {
        lock.withLock {
            switch event {
            case .started:
                sendStatusMessage("execution_start", [("prompt_id", promptId), ("timestamp", .timestampNow)])
            case .cached(let nodeIds):
                reportCached(nodeIds)
            case let .nodeStarted(nodeId, _):
                reportCached([])
                send(
                    "executing",
                    [
                        ("node", .string(nodeId)), ("display_node", .string(nodeId)),
                        ("prompt_id", promptId),
                    ])
            case let .progress(nodeId, step, total):
                send(
                    "progress",
                    [
                        ("value", .int(Int64(step))), ("max", .int(Int64(total))), ("prompt_id", promptId),
                        ("node", .string(nodeId)),
                    ])
            case let .preview(_, _, _, jpeg):
                hub.sendImage(jpeg, format: .jpeg, to: prompt.clientId)
            case let .imageFrame(_, png):
                hub.sendImage(png, format: .png, to: prompt.clientId)
            case let .nodeFinished(nodeId, _, ui):
                executed.append(nodeId)
                guard let ui else { return }
                outputs.removeAll { $0.key == nodeId }
                outputs.append((nodeId, ui))
                send(
                    "executed",
                    [
                        ("node", .string(nodeId)), ("display_node", .string(nodeId)), ("output", ui),
                        ("prompt_id", promptId),
                    ])
            case .warning, .failed, .cancelled, .finished:
                // Failures and interruptions are reported from the thrown error, which says more.
                break
            }
        }
    }

    /// ComfyUI always sends `execution_cached` once, before the first node, even when empty.
    private func reportCached(_ nodeIds: [String]) {
        guard !cachedReported else { return }
        cachedReported = true
        sendStatusMessage(
            "execution_cached",
            [
                ("nodes", .array(nodeIds.map(JSONValue.string))),
                ("prompt_id", promptId), ("timestamp", .timestampNow),
            ])
    }

    /// Output nodes served from the cache ran no code but still have UI results: ComfyUI sends
    /// `executed` for them too, so clients that collect images from these messages get them.
    func succeeded(outputs finalOutputs: [(nodeId: String, ui: JSONValue)]) {
        lock.withLock {
            reportCached([])
            for (nodeId, ui) in finalOutputs where !outputs.contains(where: { $0.key == nodeId }) {
                send(
                    "executed",
                    [
                        ("node", .string(nodeId)), ("display_node", .string(nodeId)), ("output", ui),
                        ("prompt_id", promptId),
                    ])
            }
            sendStatusMessage("execution_success", [("prompt_id", promptId), ("timestamp", .timestampNow)])
        }
    }

    func failed(_ error: any Error) {
        lock.withLock {
            var nodeId = JSONValue.null, nodeType = JSONValue.null
            var message = "\(error)", exceptionType = String(reflecting: type(of: error))
            if let failure = error as? NodeExecutionFailure {
                (nodeId, nodeType) = (.string(failure.location.nodeId), .string(failure.location.classType))
                message = failure.message
                exceptionType = String(reflecting: type(of: failure.underlying))
            }
            sendStatusMessage(
                "execution_error",
                [
                    ("prompt_id", promptId), ("node_id", nodeId), ("node_type", nodeType),
                    ("executed", .array(executed.map(JSONValue.string))), ("exception_message", .string(message)),
                    ("exception_type", .string(exceptionType)), ("traceback", .array([])),
                    ("current_inputs", .object([])), ("current_outputs", .array([])), ("timestamp", .timestampNow),
                ])
        }
    }

    /// Broadcast, as ComfyUI does: every client learns the queue moved on.
    func interrupted(at nodeId: String?) {
        lock.withLock {
            let classType = nodeId.flatMap { prompt.workflow.workflow.node($0)?.classType }
            let data: [(key: String, value: JSONValue)] = [
                ("prompt_id", promptId), ("node_id", nodeId.map(JSONValue.string) ?? .null),
                ("node_type", classType.map(JSONValue.string) ?? .null),
                ("executed", .array(executed.map(JSONValue.string))), ("timestamp", .timestampNow),
            ]
            statusMessages.append(.array([.string("execution_interrupted"), .object(data)]))
            hub.send("execution_interrupted", .object(data), to: nil)
        }
    }

    /// The "done" signal clients wait for: `executing` with a null node.
    func done() {
        lock.withLock { send("executing", [("node", .null), ("prompt_id", promptId)]) }
    }

    /// ComfyUI's history entry for this prompt.
    func historyEntry(outputs finalOutputs: [(nodeId: String, ui: JSONValue)]?, success: Bool) -> JSONValue {
        lock.withLock {
            let outputPairs = finalOutputs.map { $0.map { (key: $0.nodeId, value: $0.ui) } } ?? outputs
            let meta: [(key: String, value: JSONValue)] = outputPairs.map { pair in
                (
                    pair.key,
                    .object([
                        ("node_id", .string(pair.key)), ("display_node", .string(pair.key)),
                        ("parent_node", .null), ("real_node_id", .string(pair.key)),
                    ])
                )
            }
            return .object([
                ("prompt", prompt.queueJSON),
                ("outputs", .object(outputPairs)),
                (
                    "status",
                    .object([
                        ("status_str", .string(success ? "success" : "error")),
                        ("completed", .bool(success)), ("messages", .array(statusMessages)),
                    ])
                ),
                ("meta", .object(meta)),
            ])
        }
    }

    private func send(_ type: String, _ data: [(key: String, value: JSONValue)]) {
        hub.send(type, .object(data), to: prompt.clientId)
    }

    /// Sent to the client and kept for the history entry.
    private func sendStatusMessage(_ type: String, _ data: [(key: String, value: JSONValue)]) {
        statusMessages.append(.array([.string(type), .object(data)]))
        send(type, data)
    }
}
