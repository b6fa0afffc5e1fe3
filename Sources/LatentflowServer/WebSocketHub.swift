import Foundation
import Latentflow

/// The connected `/ws` clients by ComfyUI's `clientId`. Sending never waits on a client: each one
/// has a bounded buffer that drops its oldest messages, so a slow or vanished client cannot hold up
/// the queue. A lock rather than an actor: the engine reports events through a synchronous callback,
/// and messages must leave in the order the events happened.
final class WebSocketHub: @unchecked Sendable {
    /// A JSON text message, or a binary frame (previews).
    enum Message: Sendable {
        case text(String)
        case binary([UInt8])
    }

    private struct Connection {
        let token: UUID
        let outbox: AsyncStream<Message>.Continuation
    }

    private let lock = NSLock()
    private var connections: [String: Connection] = [:]

    /// Registers a client; a reconnect with the same id replaces the old socket (as ComfyUI does).
    func connect(clientId: String) -> (token: UUID, messages: AsyncStream<Message>) {
        let (messages, outbox) = AsyncStream.makeStream(
            of: Message.self, bufferingPolicy: .bufferingNewest(ServerLimits.webSocketBufferedMessages))
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
        send(.text(JSONValue.object([("type", .string(type)), ("data", data)]).serialized()), to: clientId)
    }

    /// The image formats of ComfyUI's `send_image` frames.
    enum ImageFormat: UInt32 {
        case jpeg = 1, png = 2
    }

    /// ComfyUI's `send_image` frame: big-endian event type 1 (`PREVIEW_IMAGE`), big-endian image
    /// format (1 JPEG for sampling previews, 2 PNG for `SaveImageWebsocket`), then the image's bytes.
    func sendImage(_ image: Data, format: ImageFormat, to clientId: String?) {
        send(.binary(Self.imageFrame(image, format: format)), to: clientId)
    }

    static func imageFrame(_ image: Data, format: ImageFormat) -> [UInt8] {
        let previewImage: UInt32 = 1
        var frame: [UInt8] = []
        frame.reserveCapacity(8 + image.count)
        for word in [previewImage, format.rawValue] {
            frame += [UInt8(word >> 24), UInt8((word >> 16) & 0xFF), UInt8((word >> 8) & 0xFF), UInt8(word & 0xFF)]
        }
        frame.append(contentsOf: image)
        return frame
    }

    private func send(_ message: Message, to clientId: String?) {
        let outboxes = lock.withLock { () -> [AsyncStream<Message>.Continuation] in
            if let clientId { return connections[clientId].map { [$0.outbox] } ?? [] }
            return connections.values.map(\.outbox)
        }
        for outbox in outboxes { outbox.yield(message) }
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
