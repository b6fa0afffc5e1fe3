import ArgumentParser
import Foundation
import Latentflow
import LatentflowServer

/// `latentflow serve`: ComfyUI's HTTP + WebSocket API, so its clients and scripts drive this engine.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve ComfyUI's HTTP and WebSocket API (POST /prompt, /history, /view, /ws, ...).")

    @Option(help: "Address to listen on. Anything but loopback lets other machines run workflows and read outputs.")
    var listen = "127.0.0.1"

    @Option(help: "Port to listen on (ComfyUI's default is 8188).")
    var port = 8188

    @Option(
        name: .customLong("front-end-root"),
        help:
            "ComfyUI's web UI: the static folder of the comfyui-frontend-package wheel (\(FrontendLocator.pinnedVersion)); default: that package in python3's environment, if installed."
    )
    var frontEndRoot: String?

    @Option(
        name: .customLong("user-directory"),
        help: "Where the web UI's settings and saved workflows live (default: <base>/user).")
    var userDirectory: String?

    @Option(
        name: .customLong("auth-token"),
        help:
            "Require 'Authorization: Bearer TOKEN' on every request (API clients such as Open WebUI send it; a browser does not)."
    )
    var authToken: String?

    @Option(
        name: .customLong("max-queue"),
        help:
            "Pending prompts beyond this many are refused with 503 (default \(ServerLimits.defaultMaxPendingPrompts)).")
    var maxQueue = ServerLimits.defaultMaxPendingPrompts

    @OptionGroup var folders: FolderOptions

    @OptionGroup var preview: PreviewOptions

    func run() async throws {
        let engine = try folders.engine(preview: preview.settings())
        let frontend = try FrontendLocator.locate(explicit: frontEndRoot)
        var configuration = ServerConfiguration(
            host: listen, port: port, frontEndRoot: frontend,
            userDirectory: userDirectory.map(URL.init(fileURLWithPath:)),
            authToken: authToken, maxPendingPrompts: max(1, maxQueue))
        // A crash point for ServerRestartTests; no user sets it.
        configuration.sigkillAfterOutputForTesting =
            ProcessInfo.processInfo.environment["LATENTFLOW_TEST_SIGKILL_AFTER_OUTPUT"] == "1"
        let server = try LatentflowServer(engine: engine, configuration: configuration)
        if let frontend { printError("latentflow serve: web UI from \(frontend.path)") }
        // SIGTERM (and Ctrl-C) drain: the running prompt stops at its next step and is recorded as
        // pending, so the next start runs it; then the server exits 0.
        SignalHandler.onShutdown(
            message: "latentflow serve: shutting down after the current step (signal again to exit now)"
        ) { Task { await server.shutDown() } }
        try await server.run { port in printError("latentflow serve: listening on http://\(listen):\(port)") }
    }
}
