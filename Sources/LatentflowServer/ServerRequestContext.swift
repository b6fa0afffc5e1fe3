import Hummingbird
import HummingbirdWebSocket

/// The context every request gets: Hummingbird's core storage, the WebSocket upgrade slot (HTTP
/// routes and `/ws` share one router), and the body limit the server was configured with.
public struct ServerRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
    }

    /// Workflows with an embedded UI graph are large, but a prompt is never an upload: 64 MB bounds
    /// memory per request while leaving headroom. Over it Hummingbird answers 413.
    public var maxUploadSize: Int { ServerLimits.maxRequestBodyBytes }
}

/// Limits that protect the one engine from too much work or too large requests.
public enum ServerLimits {
    public static let maxRequestBodyBytes = 64 << 20
    /// An uploaded image's file (ComfyUI's `--max-upload-size` defaults to 100 MB; one request bounds it here).
    public static let maxUploadBytes = maxRequestBodyBytes
    /// The most pixels an upload may decode to (8192x8192): a small compressed file must not
    /// expand to gigabytes.
    public static let maxUploadPixels = 8192 * 8192
    /// Pending prompts beyond this are refused with 503 (`--max-queue`): each waits in memory and
    /// on disk, and a queue of hours helps nobody. Room for a batch of a few thousand.
    public static let defaultMaxPendingPrompts = 4096
    /// ComfyUI keeps the newest 10000 history entries.
    public static let maxHistoryEntries = 10_000
    /// Messages buffered for one WebSocket client before the oldest are dropped.
    public static let webSocketBufferedMessages = 512
}
