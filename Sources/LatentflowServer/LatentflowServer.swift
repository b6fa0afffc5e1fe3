import Foundation
import Hummingbird
import HummingbirdWebSocket
import Latentflow

/// Where the server listens.
public struct ServerConfiguration: Sendable {
    /// Loopback by default: the API can run any workflow and read the output folder.
    public var host = "127.0.0.1"
    /// 0 picks a free port (tests).
    public var port = 8188
    /// The web UI's static files (the `static` folder of `comfyui-frontend-package`); nil: API only.
    public var frontEndRoot: URL?
    /// ComfyUI's user folder (settings, saved workflows); nil: `<base>/user`.
    public var userDirectory: URL?
    /// When set, every request must carry `Authorization: Bearer <token>`.
    public var authToken: String?

    public init(
        host: String = "127.0.0.1", port: Int = 8188, frontEndRoot: URL? = nil, userDirectory: URL? = nil,
        authToken: String? = nil
    ) {
        (self.host, self.port, self.frontEndRoot, self.userDirectory) = (host, port, frontEndRoot, userDirectory)
        self.authToken = authToken
    }
}

/// ComfyUI's HTTP + WebSocket API over one engine: one queue, one worker, one output cache for the
/// server's lifetime. Every route is also served under `/api`, as ComfyUI does.
public final class LatentflowServer: Sendable {
    public let engine: Engine
    public let configuration: ServerConfiguration
    let hub: WebSocketHub
    let queue: PromptQueue
    let userData: UserData
    let settings: SettingsStore

    public init(engine: Engine, configuration: ServerConfiguration = ServerConfiguration()) {
        let hub = WebSocketHub()
        (self.engine, self.configuration, self.hub) = (engine, configuration, hub)
        userData = UserData(
            directory: configuration.userDirectory ?? engine.paths.baseDirectory.appendingPathComponent("user"))
        settings = SettingsStore(userData: userData)
        queue = PromptQueue { remaining in
            hub.send("status", WebSocketHub.statusData(queueRemaining: remaining), to: nil)
        }
    }

    public func makeRouter() -> Router<ServerRequestContext> {
        let router = Router(context: ServerRequestContext.self)
        if let token = configuration.authToken { router.middlewares.add(BearerTokenMiddleware(token: token)) }
        router.middlewares.add(OriginCheckMiddleware())
        for prefix in ["", "/api"] {
            addPromptRoutes(to: router, prefix: prefix)
            addQueueRoutes(to: router, prefix: prefix)
            addHistoryRoutes(to: router, prefix: prefix)
            addViewRoutes(to: router, prefix: prefix)
            addObjectInfoRoutes(to: router, prefix: prefix)
            addSystemRoutes(to: router, prefix: prefix)
            addWebSocketRoute(to: router, prefix: prefix)
            addUserDataRoutes(to: router, prefix: prefix)
            addSettingsRoutes(to: router, prefix: prefix)
            addFrontendRoutes(to: router, prefix: prefix)
            addUploadRoutes(to: router, prefix: prefix)
        }
        addFrontendFileRoutes(to: router)
        if let root = configuration.frontEndRoot {
            // Last: a path no route answers is looked up in the web UI's folder (`/` is its index.html).
            router.middlewares.add(
                FileMiddleware<ServerRequestContext, LocalFileSystem>(root.path, searchForIndexHtml: true))
        }
        return router
    }

    /// The Hummingbird application; run it next to `runWorker()` (as `run()` does).
    /// - Parameter onServerRunning: told the bound port once the server listens.
    public func makeApplication(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some ApplicationProtocol
    {
        let router = makeRouter()
        return Application(
            router: router,
            server: .http1WebSocketUpgrade(
                webSocketRouter: router,
                configuration: .init(ws: .init(maxFrameSize: 1 << 20))),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "latentflow"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) })
    }

    /// Runs queued prompts until the surrounding task is cancelled.
    public func runWorker() async {
        await PromptWorker(engine: engine, queue: queue, hub: hub).run()
    }

    /// Serves until SIGINT / SIGTERM.
    public func run(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let application = makeApplication(onServerRunning: onServerRunning)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.runWorker() }
            group.addTask { try await application.runService() }
            // The application returns on a shutdown signal; the worker then stops with it.
            try await group.next()
            group.cancelAll()
        }
    }
}
