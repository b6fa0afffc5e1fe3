import Foundation

/// What a run produced: output nodes' UI results, and which nodes ran or came from the cache.
public struct RunResult: Sendable {
    public var ui: [(nodeId: String, ui: JSONValue)] = []
    /// The files output nodes wrote, in the order they ran (cached outputs report theirs again).
    public var writtenFiles: [URL] = []
    public var executed: [String] = []
    public var cached: [String] = []
    /// Problems with outputs that could not run (the run went ahead with the valid ones).
    public var validation: ValidationReport
}

/// A node threw: the run stopped there. What already ran (and files already written) stays.
public struct NodeExecutionFailure: Error, CustomStringConvertible {
    public let location: NodeLocation
    public let message: String
    public let underlying: any Error
    public let partial: RunResult

    public var description: String { "\(location.readable) failed: \(message)" }
}

/// Validates, plans and runs workflows; keeps a cache of node outputs across runs.
public final class Executor: @unchecked Sendable {
    public let registry: NodeRegistry
    public let environment: ExecutionEnvironment
    public let cache: OutputCache
    /// The largest graph `validate` accepts.
    public let limits: GraphLimits

    public init(
        registry: NodeRegistry, environment: ExecutionEnvironment = ExecutionEnvironment(),
        cache: OutputCache = OutputCache(), limits: GraphLimits = .standard
    ) {
        (self.registry, self.environment, self.cache, self.limits) = (registry, environment, cache, limits)
    }

    /// Checks the whole workflow and reports every problem; runs nothing.
    public func validate(_ workflow: Workflow, targets: [String]? = nil) -> ValidationReport {
        var validator = Validator(workflow: workflow, registry: registry, environment: environment, limits: limits)
        return validator.run(targets: targets)
    }

    /// Runs the valid output nodes of a workflow and whatever they need that is not cached.
    /// - Parameters:
    ///   - targets: output node ids to run (ComfyUI's partial execution); all output nodes if nil.
    ///   - extraPNGInfo: metadata SaveImage embeds besides the prompt, normally `{"workflow": ...}`.
    public func run(
        _ workflow: Workflow, targets: [String]? = nil, extraPNGInfo: JSONValue? = nil,
        cancellation: CancellationFlag = CancellationFlag(),
        events: @escaping @Sendable (ExecutionEvent) -> Void = { _ in }
    ) async throws -> RunResult {
        let report = validate(workflow, targets: targets)
        guard report.isRunnable else { throw WorkflowValidationFailure(report: report) }
        var run = WorkflowRun(
            executor: self, workflow: workflow, report: report, extraPNGInfo: extraPNGInfo,
            cancellation: cancellation, events: events)
        return try await run.execute()
    }
}
