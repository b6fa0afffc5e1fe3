import Foundation
import Latentflow

/// The connected `/ws` clients by ComfyUI's `clientId`. Sending never waits on a client: each one
/// has a bounded buffer that drops its oldest messages, so a slow or vanished client cannot hold up
/// the queue. A lock rather than an actor: the engine reports events through a synchronous callback,
/// and messages must leave in the order the events happened.
final class WebSocketHub: @unchecked Sendable {
    private struct Connection {
        let token: UUID
        let outbox: AsyncStream<String>.Continuation
    }

    private let lock = NSLock()
    private var connections: [String: Connection] = [:]

    /// Registers a client; a reconnect with the same id replaces the old socket (as ComfyUI does).
    func connect(clientId: String) -> (token: UUID, messages: AsyncStream<String>) {
        let (messages, outbox) = AsyncStream.makeStream(
            of: String.self, bufferingPolicy: .bufferingNewest(ServerLimits.webSocketBufferedMessages))
        let token = UUID()
        let replaced = lock.withLock { () -> Connection? in
            defer { connections[clientId] = Connection(token: token, outbox: outbox) }
            return connections[clientId]
        }
        replaced?.outbox.finish()
        return (token, messages)
    }

    func disconnect(clientId: String, token: UUID) {
        let removed = lock.withLock { () -> Connection? in
            guard connections[clientId]?.token == token else { return nil }
            return connections.removeValue(forKey: clientId)
        }
        removed?.outbox.finish()
    }

    var clientCount: Int { lock.withLock { connections.count } }

    /// Sends `{"type": type, "data": data}` to one client, or to all when `clientId` is nil.
    func send(_ type: String, _ data: JSONValue, to clientId: String?) {
        let text = JSONValue.object([("type", .string(type)), ("data", data)]).serialized()
        let outboxes = lock.withLock { () -> [AsyncStream<String>.Continuation] in
            if let clientId { return connections[clientId].map { [$0.outbox] } ?? [] }
            return connections.values.map(\.outbox)
        }
        for outbox in outboxes { outbox.yield(text) }
    }

    /// ComfyUI's `status` message; `sid` only in the one sent on connect.
    static func statusData(queueRemaining: Int, sid: String? = nil) -> JSONValue {
        var pairs: [(key: String, value: JSONValue)] = [
            ("status", .object([("exec_info", .object([("queue_remaining", .int(Int64(queueRemaining)))]))]))
        ]
        if let sid { pairs.append(("sid", .string(sid))) }
        return .object(pairs)
    }
}
