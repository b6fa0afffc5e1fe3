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

    public init(
        registry: NodeRegistry, environment: ExecutionEnvironment = ExecutionEnvironment(),
        cache: OutputCache = OutputCache()
    ) {
        (self.registry, self.environment, self.cache) = (registry, environment, cache)
    }

    /// Checks the whole workflow and reports every problem; runs nothing.
    public func validate(_ workflow: Workflow, targets: [String]? = nil) -> ValidationReport {
        var validator = Validator(workflow: workflow, registry: registry, environment: environment)
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

/// The state of one run: cache keys, results so far, and what ran.
struct WorkflowRun {
    let executor: Executor
    let workflow: Workflow
    let report: ValidationReport
    let extraPNGInfo: JSONValue?
    let cancellation: CancellationFlag
    let events: @Sendable (ExecutionEvent) -> Void
    /// The API form of the workflow, built once: every node call receives it (SaveImage embeds it).
    let prompt: JSONValue

    private var keys: [String: CacheKey] = [:]
    private var results: [String: [[any Sendable]]] = [:]
    private var result: RunResult

    init(
        executor: Executor, workflow: Workflow, report: ValidationReport, extraPNGInfo: JSONValue?,
        cancellation: CancellationFlag, events: @escaping @Sendable (ExecutionEvent) -> Void
    ) {
        (self.executor, self.workflow, self.report, self.extraPNGInfo) = (executor, workflow, report, extraPNGInfo)
        (self.cancellation, self.events) = (cancellation, events)
        prompt = workflow.apiJSON
        result = RunResult(validation: report)
    }

    mutating func execute() async throws -> RunResult {
        for output in report.validOutputs { _ = cacheKey(output) }
        events(.started(nodeCount: keys.count))
        let cachedAtStart = keys.filter { executor.cache.lookup($0.value) != nil }.map(\.key).sorted()
        if !cachedAtStart.isEmpty { events(.cached(nodeIds: cachedAtStart)) }
        do {
            for output in report.validOutputs { _ = try await evaluate(output) }
        } catch let cancelled as ExecutionCancelled {
            events(.cancelled(nodeId: cancelled.nodeId))
            throw cancelled
        }
        events(.finished)
        return result
    }

    // MARK: Cache keys

    /// The node's cache key, from its class, fingerprint, constants and upstream keys by slot.
    private mutating func cacheKey(_ id: String) -> CacheKey {
        if let key = keys[id] { return key }
        let node = workflow.node(id)!
        let type = executor.registry.node(node.classType)!
        var hasher = KeyHasher()
        hasher.add(node.classType)
        let constants = report.constants[id] ?? [:]
        switch type.fingerprint(NodeConstants(constants), environment: executor.environment) {
        case .unchanged: hasher.add("")
        case .value(let text): hasher.add(text)
        case .alwaysChanged: hasher.add(UUID().uuidString)
        }
        if type.schema.isNotIdempotent { hasher.add(UUID().uuidString) }
        for (name, value) in node.inputs.sorted(by: { $0.name < $1.name }) {
            hasher.add(name)
            switch value {
            case let .link(source, slot):
                hasher.add(cacheKey(source))
                hasher.add(String(slot))
            case .constant(let json): hasher.add(json.serialized())
            case .malformedLink: hasher.add("?")
            }
        }
        keys[id] = hasher.key
        return hasher.key
    }

    // MARK: Evaluation

    /// The node's outputs (a list per slot), from this run, the cache, or by running it.
    private mutating func evaluate(_ id: String) async throws -> [[any Sendable]] {
        if let done = results[id] { return done }
        try checkCancellation(id)
        let key = cacheKey(id)
        if let entry = executor.cache.lookup(key) {
            results[id] = entry.outputs
            result.cached.append(id)
            if let ui = entry.ui { result.ui.append((id, ui)) }
            result.writtenFiles += entry.files
            return entry.outputs
        }
        let node = workflow.node(id)!
        let type = executor.registry.node(node.classType)!
        let schema = type.schema
        var lists = try await inputLists(node, schema: schema, includeLazy: false)
        let instance = type.init()
        while true {
            let needed = instance.lazyInputsNeeded(NodeInputs(lists: lists, index: 0)).filter { lists[$0] == nil }
            guard !needed.isEmpty else { break }
            for name in needed {
                guard case let .link(source, slot)? = node.input(name) else { continue }
                lists[name] = try await evaluate(source)[slot]
            }
        }
        try checkCancellation(id)
        let outputs = try await call(instance, node: node, schema: schema, lists: lists)
        results[id] = outputs.values
        result.executed.append(id)
        if let ui = outputs.ui { result.ui.append((id, ui)) }
        result.writtenFiles += outputs.files
        executor.cache.store(
            key, outputs: outputs.values, ui: outputs.ui, files: outputs.files, protecting: Set(keys.values))
        return outputs.values
    }

    private mutating func inputLists(_ node: WorkflowNode, schema: NodeSchema, includeLazy: Bool) async throws
        -> [String: [any Sendable]]
    {
        var lists: [String: [any Sendable]] = [:]
        let constants = report.constants[node.id] ?? [:]
        for (name, value) in node.inputs {
            switch value {
            case let .link(source, slot):
                if schema.input(named: name)?.isLazy == true && !includeLazy { continue }
                lists[name] = try await evaluate(source)[slot]
            case .constant:
                if let converted = constants[name] { lists[name] = [converted] }
            case .malformedLink:
                continue
            }
        }
        return lists
    }

    /// Calls the node once per list element (or once with whole lists) and gathers its outputs.
    private mutating func call(
        _ instance: any Node, node: WorkflowNode, schema: NodeSchema,
        lists: [String: [any Sendable]]
    ) async throws -> (values: [[any Sendable]], ui: JSONValue?, files: [URL]) {
        let context = ExecutionContext(
            nodeId: node.id, classType: node.classType, title: node.title,
            environment: executor.environment, prompt: prompt,
            extraPNGInfo: extraPNGInfo, events: events, cancellation: cancellation)
        let location = NodeLocation(nodeId: node.id, classType: node.classType, title: node.title)
        events(.nodeStarted(nodeId: node.id, classType: node.classType))
        var values = [[any Sendable]](repeating: [], count: schema.outputs.count)
        var uiImages: [JSONValue] = []
        var ui: JSONValue?
        var files: [URL] = []
        let calls = schema.inputIsList ? 1 : max(1, lists.values.map(\.count).max() ?? 1)
        do {
            for index in 0..<calls {
                try context.checkCancellation()
                let outputs = try await instance.execute(
                    NodeInputs(lists: lists, index: schema.inputIsList ? nil : index), context: context)
                try Self.check(outputs, against: schema)
                for (slot, value) in outputs.values.enumerated() {
                    if schema.outputs[slot].isList, let list = value as? [any Sendable] {
                        values[slot] += list
                    } else {
                        values[slot].append(value)
                    }
                }
                if let images = outputs.ui?["images"]?.arrayValue {
                    uiImages += images
                } else if outputs.ui != nil {
                    ui = outputs.ui
                }
                files += outputs.files
            }
        } catch let cancelled as ExecutionCancelled {
            throw cancelled
        } catch {
            let message = "\(error)"
            events(.failed(nodeId: node.id, classType: node.classType, message: message))
            throw NodeExecutionFailure(location: location, message: message, underlying: error, partial: result)
        }
        if !uiImages.isEmpty { ui = .object([("images", .array(uiImages))]) }
        events(.nodeFinished(nodeId: node.id, classType: node.classType, ui: ui))
        return (values, ui, files)
    }

    /// A node must return one value per declared output, of the declared type where it can tell.
    private static func check(_ outputs: NodeOutputs, against schema: NodeSchema) throws {
        guard outputs.values.count == schema.outputs.count else {
            throw NodeError("returned \(outputs.values.count) value(s) for \(schema.outputs.count) declared output(s)")
        }
        for (slot, (value, spec)) in zip(outputs.values, schema.outputs).enumerated() where !spec.isList {
            if let typed = value as? any PortValue, !spec.type.accepts(type(of: typed).portType) {
                throw NodeError(
                    "output \(slot) (\(spec.name)) is declared \(spec.type.name) but the node returned \(type(of: typed).portType.name)"
                )
            }
        }
    }

    private func checkCancellation(_ id: String) throws {
        if cancellation.isCancelled || Task.isCancelled { throw ExecutionCancelled(nodeId: id) }
    }
}
