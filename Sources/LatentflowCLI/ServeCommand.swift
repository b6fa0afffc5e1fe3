import ArgumentParser
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

    @OptionGroup var folders: FolderOptions

    func run() async throws {
        let server = LatentflowServer(
            engine: try folders.engine(),
            configuration: ServerConfiguration(host: listen, port: port))
        try await server.run { port in printError("latentflow serve: listening on http://\(listen):\(port)") }
    }
}
