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

    /// An engine as configured by flags and the environment (`EngineConfiguration.resolve`).
    public convenience init(configuration: EngineConfiguration, packs: [any NodePack.Type] = []) throws {
        if let budget = configuration.winogradCacheBytes { WinogradWeightCache.budgetBytes = budget }
        try self.init(
            paths: configuration.modelPaths(), packs: packs, cacheBudgetBytes: configuration.cacheBudgetBytes,
            settings: configuration.nodeSettings)
    }

    /// - Parameter lowMemory: keep checkpoint weights in their files and read and widen them layer
    ///   by layer as the models run (see `WeightResidency.streamed`).
    public convenience init(
        paths: ModelPaths, packs: [any NodePack.Type] = [],
        cacheBudgetBytes: Int = EngineConfiguration.defaultCacheBudgetBytes, lowMemory: Bool
    ) throws {
        try self.init(
            paths: paths, packs: packs, cacheBudgetBytes: cacheBudgetBytes,
            settings: BuiltinNodeSettings(lowMemory: lowMemory))
    }

    /// Applies `AllocatorPolicy.keepFreedBlocksForReuse()` (large tensors reused warm; 15-20%
    /// faster images) and `BLASCore.replacement` (OpenBLAS's kernels on CPUs it does not know);
    /// calling them first thing in `main` also covers threads started before.
    public init(
        paths: ModelPaths, packs: [any NodePack.Type] = [],
        cacheBudgetBytes: Int = EngineConfiguration.defaultCacheBudgetBytes,
        settings: BuiltinNodeSettings = BuiltinNodeSettings()
    ) throws {
        AllocatorPolicy.keepFreedBlocksForReuse()
        _ = BLASCore.replacement
        self.paths = paths
        registry = try NodeRegistry(packs: [BuiltinNodes.self] + packs)
        let environment = ExecutionEnvironment(
            files: paths, outputDirectory: paths.outputDirectory,
            tempDirectory: paths.tempDirectory,
            services: [settings])
        executor = Executor(
            registry: registry, environment: environment, cache: OutputCache(budgetBytes: cacheBudgetBytes))
        loader = WorkflowLoader(registry: registry)
    }

    public func load(_ url: URL) throws -> LoadedWorkflow { try loader.load(contentsOf: url) }

    public func validate(_ loaded: LoadedWorkflow) -> ValidationReport { executor.validate(loaded.workflow) }

    public func run(
        _ loaded: LoadedWorkflow, cancellation: CancellationFlag = CancellationFlag(),
        events: @escaping @Sendable (ExecutionEvent) -> Void = { _ in }
    ) async throws -> RunResult {
        try await executor.run(
            loaded.workflow, extraPNGInfo: loaded.extraPNGInfo, cancellation: cancellation, events: events)
    }

    /// The files a run's output nodes wrote (and, for outputs served from the cache, had written).
    public func writtenFiles(_ result: RunResult) -> [URL] { result.writtenFiles }
}
