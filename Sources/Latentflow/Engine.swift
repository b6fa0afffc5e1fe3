import Foundation
import LatentflowGraph
import LatentflowIO
import LatentflowNodes
import LatentflowTensor

/// Latentflow for library users: the built-in nodes plus any packs, a models folder and one
/// executor whose cache outlives single runs (so batches load each model once).
public final class Engine: @unchecked Sendable {
    public let paths: ModelPaths
    public let registry: NodeRegistry
    public let executor: Executor
    public let loader: WorkflowLoader

    /// - Parameter lowMemory: keep checkpoint weights in their files and read and widen them layer
    ///   by layer as the models run (see `WeightResidency.streamed`).
    ///
    /// Applies `AllocatorPolicy.keepFreedBlocksForReuse()` (large tensors reused warm; 15-20%
    /// faster images); calling it first thing in `main` also covers threads started before.
    public init(paths: ModelPaths, packs: [any NodePack.Type] = [], cacheBudgetBytes: Int = 12 << 30, lowMemory: Bool = false) throws {
        AllocatorPolicy.keepFreedBlocksForReuse()
        self.paths = paths
        registry = try NodeRegistry(packs: [BuiltinNodes.self] + packs)
        let environment = ExecutionEnvironment(files: paths, outputDirectory: paths.outputDirectory,
                                               tempDirectory: paths.baseDirectory.appendingPathComponent("temp"),
                                               lowMemory: lowMemory)
        executor = Executor(registry: registry, environment: environment, cache: OutputCache(budgetBytes: cacheBudgetBytes))
        loader = WorkflowLoader(registry: registry)
    }

    public func load(_ url: URL) throws -> LoadedWorkflow { try loader.load(contentsOf: url) }

    public func validate(_ loaded: LoadedWorkflow) -> ValidationReport { executor.validate(loaded.workflow) }

    public func run(_ loaded: LoadedWorkflow, cancellation: CancellationFlag = CancellationFlag(),
                    events: @escaping @Sendable (ExecutionEvent) -> Void = { _ in }) async throws -> RunResult {
        try await executor.run(loaded.workflow, extraPNGInfo: loaded.extraPNGInfo, cancellation: cancellation, events: events)
    }

    /// The files a run's output nodes reported, as paths.
    public func writtenFiles(_ result: RunResult) -> [URL] {
        result.ui.flatMap { entry in
            (entry.ui["images"]?.arrayValue ?? []).compactMap { image -> URL? in
                guard let name = image["filename"]?.stringValue else { return nil }
                let subfolder = image["subfolder"]?.stringValue ?? ""
                let root = image["type"]?.stringValue == "temp" ? executor.environment.tempDirectory : executor.environment.outputDirectory
                return (subfolder.isEmpty ? root : root.appendingPathComponent(subfolder)).appendingPathComponent(name)
            }
        }
    }
}

extension ModelPaths {
    /// Folders from flags, else environment variables (`LATENTFLOW_BASE_DIR`, `LATENTFLOW_MODELS_DIR`,
    /// `LATENTFLOW_OUTPUT_DIR`, `LATENTFLOW_EXTRA_MODEL_PATHS`), else the current directory; an
    /// `extra_model_paths.yaml` in the base folder is read too, as ComfyUI does.
    public static func resolve(base: String?, models: String?, output: String?, extraPaths: [String]) throws -> ModelPaths {
        let env = ProcessInfo.processInfo.environment
        let baseURL = URL(fileURLWithPath: base ?? env["LATENTFLOW_BASE_DIR"] ?? FileManager.default.currentDirectoryPath)
        var extras = (extraPaths + (env["LATENTFLOW_EXTRA_MODEL_PATHS"].map { $0.split(separator: ":").map(String.init) } ?? []))
            .map { URL(fileURLWithPath: $0) }
        let local = baseURL.appendingPathComponent("extra_model_paths.yaml")
        if FileManager.default.fileExists(atPath: local.path) { extras.insert(local, at: 0) }
        return try ModelPaths(baseDirectory: baseURL,
                              modelsDirectory: (models ?? env["LATENTFLOW_MODELS_DIR"]).map { URL(fileURLWithPath: $0) },
                              outputDirectory: (output ?? env["LATENTFLOW_OUTPUT_DIR"]).map { URL(fileURLWithPath: $0) },
                              extraPaths: extras)
    }
}
