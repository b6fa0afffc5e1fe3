import Foundation
import Hummingbird
import HummingbirdWebSocket
import Latentflow

/// `GET /ws?clientId=`: registers the client with the hub, says `status` (with its `sid`), then
/// forwards its messages until either side closes.
extension LatentflowServer {
    func addWebSocketRoute(to router: Router<ServerRequestContext>, prefix: String) {
        router.ws("\(prefix)/ws") { _, _ in
            .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            let requested = context.request.uri.queryParameters.get("clientId") ?? ""
            let clientId =
                requested.isEmpty
                ? UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
                : requested
            let (token, messages) = self.hub.connect(clientId: clientId)
            defer { self.hub.disconnect(clientId: clientId, token: token) }
            let status = WebSocketHub.statusData(queueRemaining: await self.queue.remaining, sid: clientId)
            let hello = JSONValue.object([("type", .string("status")), ("data", status)])
            try await outbound.write(.text(hello.serialized()))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await message in messages {
                        switch message {
                        case .text(let text): try await outbound.write(.text(text))
                        case .binary(let bytes): try await outbound.write(.binary(ByteBuffer(bytes: bytes)))
                        }
                    }
                }
                // Clients may send `feature_flags`; nothing else is expected. This ends when the client goes.
                for try await _ in inbound {}
                group.cancelAll()
            }
        }
    }
}
