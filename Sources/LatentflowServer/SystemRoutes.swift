import Foundation
import Hummingbird
import Latentflow

/// The informational routes clients call at start-up: system stats, model folders, embeddings,
/// and feature flags.
extension LatentflowServer {
    /// The ComfyUI release whose API this server follows.
    static let comfyUIVersion = "0.3.64"

    func addSystemRoutes(to router: Router<ServerRequestContext>, prefix: String) {
        router.get("\(prefix)/system_stats") { _, _ in JSONResponse.make(self.systemStats()) }
        router.get("\(prefix)/embeddings") { _, _ in
            // ComfyUI lists embedding names without their extension.
            JSONResponse.make(
                .array(
                    self.engine.paths.files(in: "embeddings").map {
                        .string(($0 as NSString).deletingPathExtension)
                    }))
        }
        router.get("\(prefix)/models") { _, _ in
            JSONResponse.make(.array(ModelPaths.modelKinds.map(JSONValue.string)))
        }
        router.get("\(prefix)/models/:folder") { _, context in
            let folder = context.parameters.get("folder") ?? ""
            guard ModelPaths.modelKinds.contains(folder) else { throw HTTPError(.notFound) }
            return JSONResponse.make(.array(self.engine.paths.files(in: folder).map(JSONValue.string)))
        }
        router.get("\(prefix)/features") { _, _ in
            JSONResponse.make(
                .object([
                    ("supports_preview_metadata", .bool(false)),
                    ("max_upload_size", .int(Int64(ServerLimits.maxUploadBytes))),
                ]))
        }
    }

    func systemStats() -> JSONValue {
        let total = Int64(ProcessInfo.processInfo.physicalMemory)
        let free = Self.availableMemoryBytes() ?? total
        let system: JSONValue = .object([
            ("os", .string("posix")), ("ram_total", .int(total)), ("ram_free", .int(free)),
            ("comfyui_version", .string(Self.comfyUIVersion)), ("required_frontend_version", .string("1.27.10")),
            ("python_version", .string("latentflow (Swift)")), ("pytorch_version", .string("none")),
            ("embedded_python", .bool(false)), ("argv", .array(CommandLine.arguments.map(JSONValue.string))),
        ])
        // The engine runs on the CPU: ComfyUI's `--cpu` reports one device named "cpu".
        let cpu: JSONValue = .object([
            ("name", .string("cpu")), ("type", .string("cpu")), ("index", .null), ("vram_total", .int(total)),
            ("vram_free", .int(free)), ("torch_vram_total", .int(total)), ("torch_vram_free", .int(free)),
        ])
        return .object([("system", system), ("devices", .array([cpu]))])
    }

    /// `MemAvailable` from /proc/meminfo (Linux); nil elsewhere.
    static func availableMemoryBytes() -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int64($0) })
        else { return nil }
        return kilobytes * 1024
    }
}
