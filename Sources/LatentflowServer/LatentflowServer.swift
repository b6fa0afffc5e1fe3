import Foundation
import Hummingbird
import HummingbirdCore
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
    /// Keep the queue and history in `<user folder>/latentflow/queue.sqlite`, so that a restart
    /// (even after `kill -9`) runs every accepted prompt and still serves the history.
    public var persistsQueue: Bool
    /// Pending prompts beyond this are refused with 503.
    public var maxPendingPrompts: Int
    /// Tests only (`LATENTFLOW_TEST_SIGKILL_AFTER_OUTPUT=1` for `serve`): the process kills itself
    /// with SIGKILL right after the first output file is complete under its name, before the
    /// prompt's history is recorded, so ServerRestartTests can crash it at that exact point.
    public var sigkillAfterOutputForTesting = false

    public init(
        host: String = "127.0.0.1", port: Int = 8188, frontEndRoot: URL? = nil, userDirectory: URL? = nil,
        authToken: String? = nil, persistsQueue: Bool = true,
        maxPendingPrompts: Int = ServerLimits.defaultMaxPendingPrompts
    ) {
        (self.host, self.port, self.frontEndRoot, self.userDirectory) = (host, port, frontEndRoot, userDirectory)
        (self.authToken, self.persistsQueue, self.maxPendingPrompts) = (authToken, persistsQueue, maxPendingPrompts)
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

    /// Opens the queue's database (when persisted) and queues again what it held.
    public init(engine: Engine, configuration: ServerConfiguration = ServerConfiguration()) throws {
        let hub = WebSocketHub()
        (self.engine, self.configuration, self.hub) = (engine, configuration, hub)
        let userDirectory =
            configuration.userDirectory ?? engine.paths.baseDirectory.appendingPathComponent("user")
        userData = UserData(directory: userDirectory)
        settings = SettingsStore(userData: userData)
        var store: PromptStore?
        var restored = RestoredQueue()
        if configuration.persistsQueue {
            let url = userDirectory.appendingPathComponent("latentflow/queue.sqlite")
            let opened: PromptStore
            do {
                opened = try PromptStore(url: url)
                restored = try Self.restore(from: opened, engine: engine)
            } catch {
                throw RestoreFailure(description: "cannot read the queue's database \(url.path): \(error)")
            }
            store = opened
            // A process killed mid-save leaves its temporary files; the prompt that wrote them runs again.
            TemporaryFileSweep.sweep(engine.paths.outputDirectory)
        }
        queue = PromptQueue(store: store, restored: restored, maxPending: configuration.maxPendingPrompts) {
            remaining in
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
        let webSocketResponder = router.buildResponder()
        return Application(
            router: router,
            // `.http1WebSocketUpgrade(webSocketRouter:configuration:)`'s channel, answering a first
            // request that does not parse with a 400 (`ParseErrorAnsweringChannel`).
            server: HTTPServerBuilder { responder in
                ParseErrorAnsweringChannel(
                    inner: HTTP1WebSocketUpgradeChannel(
                        responder: responder, webSocketResponder: webSocketResponder,
                        configuration: .init(ws: .init(maxFrameSize: 1 << 20))))
            },
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "latentflow"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) })
    }

    /// Runs queued prompts until the surrounding task is cancelled.
    public func runWorker() async {
        await PromptWorker(
            engine: engine, queue: queue, hub: hub,
            sigkillAfterOutput: configuration.sigkillAfterOutputForTesting
        ).run()
    }

    /// Serves until `shutDown()` has drained the worker (the caller wires it to SIGTERM / SIGINT),
    /// then closes the queue's database.
    /// The temp folder is emptied before the server listens and after it stops, as ComfyUI's is.
    public func run(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let temp = engine.executor.environment.tempDirectory
        TempFolderCleanup.empty(temp)
        defer { TempFolderCleanup.empty(temp) }
        let application = makeApplication(onServerRunning: onServerRunning)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                // No signals of its own: the HTTP server keeps answering (503 for new prompts)
                // while the worker drains, and stops when the group is cancelled.
                group.addTask { try await application.runService(gracefulShutdownSignals: []) }
                group.addTask { await self.runWorker() }
                // The worker returns once drained; the application only on an error.
                try await group.next()
                group.cancelAll()
            }
        } catch {
            await queue.closeStore()
            throw error
        }
        await queue.closeStore()
    }

    /// Stops taking prompts (`POST /prompt` answers 503), interrupts the running prompt at its next
    /// sampler step or node boundary and records it as pending; `run()` then returns.
    public func shutDown() async {
        await queue.beginShutdown()
    }
}
