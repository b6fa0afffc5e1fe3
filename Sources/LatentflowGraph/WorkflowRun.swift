import Foundation

/// The state of one run: cache keys, results so far, and what ran.
///
/// Keys and evaluation walk the graph with explicit stacks, not recursion, so a chain of any
/// length runs without overflowing the stack; the order nodes are visited in is the order the
/// recursive walk had (inputs in file order, lazy inputs when the node asks for them).
struct WorkflowRun {
    let executor: Executor
    let workflow: Workflow
    let report: ValidationReport
    let extraPNGInfo: JSONValue?
    let cancellation: CancellationFlag
    let events: @Sendable (ExecutionEvent) -> Void
    /// The API form of the workflow with its constants as validated, built once: every node call
    /// receives it (SaveImage embeds it).
    let prompt: JSONValue
    private let index: WorkflowIndex

    private var keys: [String: CacheKey] = [:]
    /// Every key of this run, which the cache must not evict while it runs.
    private var protectedKeys: Set<CacheKey> = []
    private var results: [String: [[any Sendable]]] = [:]
    private var result: RunResult

    init(
        executor: Executor, workflow: Workflow, report: ValidationReport, extraPNGInfo: JSONValue?,
        cancellation: CancellationFlag, events: @escaping @Sendable (ExecutionEvent) -> Void
    ) {
        (self.executor, self.workflow, self.report, self.extraPNGInfo) = (executor, workflow, report, extraPNGInfo)
        (self.cancellation, self.events) = (cancellation, events)
        prompt = workflow.apiJSON(asValidated: report.constants, registry: executor.registry)
        index = WorkflowIndex(workflow)
        result = RunResult(validation: report)
    }

    mutating func execute() async throws -> RunResult {
        for output in report.validOutputs { computeKeys(from: output) }
        events(.started(nodeCount: keys.count))
        let cachedAtStart = keys.filter { executor.cache.lookup($0.value) != nil }.map(\.key).sorted()
        if !cachedAtStart.isEmpty { events(.cached(nodeIds: cachedAtStart)) }
        do {
            for output in report.validOutputs { try await evaluate(output) }
        } catch let cancelled as ExecutionCancelled {
            events(.cancelled(nodeId: cancelled.nodeId))
            throw cancelled
        }
        events(.finished)
        return result
    }

    // MARK: Cache keys

    /// Computes the cache key of the node and of everything upstream of it: from its class,
    /// fingerprint, constants and upstream keys by slot. Fingerprints are taken on the way down
    /// (node before inputs, inputs by name) and keys finished on the way up.
    private mutating func computeKeys(from root: String) {
        guard keys[root] == nil else { return }
        var started: [String: KeyHasher] = [:]
        var stack: [String] = [root]
        while let id = stack.last {
            if keys[id] != nil {
                stack.removeLast()
                continue
            }
            let node = index.node(id)!
            let inputs = node.inputs.sorted { $0.name < $1.name }
            if started[id] == nil {
                started[id] = keyPrefix(node)
                // Sources are pushed last-first so the first input (by name) is keyed first.
                for input in inputs.reversed() {
                    if case let .link(source, _) = input.value, keys[source] == nil, started[source] == nil {
                        stack.append(source)
                    }
                }
                continue
            }
            stack.removeLast()
            var hasher = started.removeValue(forKey: id)!
            for (name, value) in inputs {
                hasher.add(name)
                switch value {
                case let .link(source, slot):
                    // A source without a key is on a cycle, which validation has refused already.
                    hasher.add(keys[source].map(\.description) ?? "cycle")
                    hasher.add(String(slot))
                case .constant(let json): hasher.add(json.serialized())
                case .malformedLink: hasher.add("?")
                }
            }
            keys[id] = hasher.key
            protectedKeys.insert(hasher.key)
        }
    }

    private func keyPrefix(_ node: WorkflowNode) -> KeyHasher {
        let type = executor.registry.node(node.classType)!
        var hasher = KeyHasher()
        hasher.add(node.classType)
        let constants = report.constants[node.id] ?? [:]
        switch type.fingerprint(NodeConstants(constants), environment: executor.environment) {
        case .unchanged: hasher.add("")
        case .value(let text): hasher.add(text)
        case .alwaysChanged: hasher.add(UUID().uuidString)
        }
        if type.schema.isNotIdempotent { hasher.add(UUID().uuidString) }
        return hasher
    }

    private mutating func cacheKey(_ id: String) -> CacheKey {
        computeKeys(from: id)
        return keys[id]!
    }

    // MARK: Evaluation

    /// Evaluates the node and whatever it needs, from this run, the cache, or by running them.
    private mutating func evaluate(_ root: String) async throws {
        guard var top = try begin(root) else { return }
        var stack: [PendingNode] = []
        var onStack: Set<String> = [root]
        while true {
            if let link = top.awaiting, let done = results[link.source] { top.lists[link.name] = done[link.slot] }
            if let link = top.nextLink(constants: report.constants[top.node.id] ?? [:]) {
                if let done = results[link.source] {
                    top.lists[link.name] = done[link.slot]
                    continue
                }
                guard !onStack.contains(link.source) else {
                    throw NodeError("node \(top.node.id) depends on its own output through node \(link.source)")
                }
                top.awaiting = link
                guard let child = try begin(link.source) else { continue }
                stack.append(top)
                onStack.insert(child.node.id)
                top = child
                continue
            }
            try checkCancellation(top.node.id)
            try await run(top)
            onStack.remove(top.node.id)
            guard let parent = stack.popLast() else { return }
            top = parent
        }
    }

    /// Nil when the node's outputs are already known (this run or the cache); else its pending state.
    private mutating func begin(_ id: String) throws -> PendingNode? {
        if results[id] != nil { return nil }
        try checkCancellation(id)
        let key = cacheKey(id)
        if let entry = executor.cache.lookup(key) {
            results[id] = entry.outputs
            result.cached.append(id)
            if let ui = entry.ui { result.ui.append((id, ui)) }
            result.writtenFiles += entry.files
            return nil
        }
        let node = index.node(id)!
        return PendingNode(node: node, type: executor.registry.node(node.classType)!, key: key)
    }

    /// Runs a node whose inputs are all gathered, and records its outputs.
    private mutating func run(_ pending: PendingNode) async throws {
        let id = pending.node.id
        let instance = pending.instance ?? pending.type.init()
        let outputs = try await call(instance, node: pending.node, schema: pending.type.schema, lists: pending.lists)
        results[id] = outputs.values
        result.executed.append(id)
        if let ui = outputs.ui { result.ui.append((id, ui)) }
        result.writtenFiles += outputs.files
        executor.cache.store(
            pending.key, outputs: outputs.values, ui: outputs.ui, files: outputs.files, protecting: protectedKeys)
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
