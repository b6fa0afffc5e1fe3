import Foundation

/// Validates a whole workflow before anything runs, collecting every problem
/// (ComfyUI's `validate_prompt` / `validate_inputs`, plus explicit cycle detection and a size limit).
///
/// The walk upstream from each output uses an explicit stack of frames rather than recursion, so
/// a chain of any length fits in the thread's stack, and it stays linear in nodes plus links:
/// nodes are found through an index and every verdict is memoized.
struct Validator {
    let workflow: Workflow
    let registry: NodeRegistry
    let environment: ExecutionEnvironment
    let limits: GraphLimits
    private let index: WorkflowIndex

    private var report = ValidationReport()
    private var verdicts: [String: Bool] = [:]
    private var visiting: Set<String> = []
    private var visitedByOutput: Set<String> = []
    /// Nodes with at least one error, so dependent outputs are found without scanning the errors.
    private var failingNodes: Set<String> = []

    init(
        workflow: Workflow, registry: NodeRegistry, environment: ExecutionEnvironment,
        limits: GraphLimits = .standard
    ) {
        (self.workflow, self.registry, self.environment, self.limits) = (workflow, registry, environment, limits)
        index = WorkflowIndex(workflow)
    }

    mutating func run(targets: [String]?) -> ValidationReport {
        if let violation = limits.violation(workflow) {
            report.errors.append(ValidationError(.invalidPrompt, violation, details: "see GraphLimits"))
            report.promptFailed = true
            return report
        }
        for node in workflow.nodes where registry.node(node.classType) == nil {
            record(
                ValidationError(
                    .invalidPrompt, "Cannot execute because node \(node.classType) does not exist.",
                    details: "Node ID '#\(node.id)'", at: location(node)))
            report.promptFailed = true
        }
        report.outputs = outputNodes(targets: targets)
        guard !report.outputs.isEmpty else {
            report.errors.append(ValidationError(.noOutputs, "Prompt has no outputs"))
            report.promptFailed = true
            return report
        }
        let cycles = CycleFinder(index: index).nodesInCycles(from: report.outputs)
        for id in cycles.sorted() {
            guard let node = index.node(id) else { continue }
            record(
                ValidationError(
                    .dependencyCycle, "Dependency cycle detected",
                    details: "node \(id) depends on its own output", at: location(node)))
            verdicts[id] = false
        }
        for output in report.outputs {
            visitedByOutput = []
            if validate(output) { report.validOutputs.append(output) }
            for id in visitedByOutput where failingNodes.contains(id) {
                report.dependentOutputs[id, default: []].append(output)
            }
        }
        return report
    }

    private mutating func outputNodes(targets: [String]?) -> [String] {
        if let targets {
            var found: [String] = []
            for id in targets {
                if index.contains(id) {
                    found.append(id)
                    continue
                }
                report.errors.append(
                    ValidationError(.invalidPrompt, "Execution target does not exist", details: "Node ID '#\(id)'"))
                report.promptFailed = true
            }
            return found
        }
        return workflow.nodes.filter { registry.schema($0.classType)?.isOutputNode == true }.map(\.id)
    }

    private func location(_ node: WorkflowNode, _ input: String? = nil) -> NodeLocation {
        NodeLocation(nodeId: node.id, classType: node.classType, title: node.title, input: input)
    }

    private mutating func record(_ error: ValidationError) {
        report.errors.append(error)
        if let id = error.location?.nodeId { failingNodes.insert(id) }
    }

    private mutating func fail(
        _ kind: ValidationError.Kind, _ message: String, details: String, _ node: WorkflowNode,
        _ input: InputSpec?, extra: [(key: String, value: JSONValue)] = []
    ) {
        var info: [(key: String, value: JSONValue)] = input.map { [("input_name", .string($0.name))] } ?? []
        info += extra
        record(
            ValidationError(kind, message, details: details, extraInfo: .object(info), at: location(node, input?.name)))
    }

    // MARK: The walk

    /// One node being validated: how far through its inputs, and what it has found so far.
    private struct Frame {
        let node: WorkflowNode
        let type: any Node.Type
        /// Declared inputs (value nil when absent), then undeclared ones, in the order checked.
        let items: [(spec: InputSpec, value: WorkflowInput?, declared: Bool)]
        let customValidated: Set<String>
        let errorsBefore: Int
        var next = 0
        /// The verdict on the source of `items[next]`, once the walk has validated it.
        var sourceVerdict: Bool?
        var upstreamValid = true
        var constants: [String: any Sendable] = [:]
    }

    private enum Entry {
        case known(Bool)
        case frame(Frame)
    }

    /// True when the node and everything upstream of it are valid. Memoized.
    private mutating func validate(_ root: String) -> Bool {
        var stack: [Frame] = []
        switch enter(root) {
        case .known(let verdict): return verdict
        case .frame(let frame): stack.append(frame)
        }
        var verdict = false
        while let top = stack.indices.last {
            if let source = advance(&stack[top]) {
                switch enter(source) {
                case .known(let known): stack[top].sourceVerdict = known
                case .frame(let frame): stack.append(frame)
                }
                continue
            }
            verdict = finish(stack.removeLast())
            if let parent = stack.indices.last { stack[parent].sourceVerdict = verdict }
        }
        return verdict
    }

    /// A memoized verdict, false for a node already on the walk (a cycle) or unknown, else a new frame.
    private mutating func enter(_ id: String) -> Entry {
        visitedByOutput.insert(id)
        if let verdict = verdicts[id] { return .known(verdict) }
        guard !visiting.contains(id), let node = index.node(id), let type = registry.node(node.classType) else {
            return .known(false)
        }
        visiting.insert(id)
        let schema = type.schema
        var items = schema.inputs.map { (spec: $0, value: node.input($0.name), declared: true) }
        // Undeclared inputs still reach the node (ComfyUI passes them as kwargs).
        for (name, value) in node.inputs where schema.input(named: name) == nil {
            items.append((InputSpec(name: name, type: .any), value, false))
        }
        return .frame(
            Frame(
                node: node, type: type, items: items, customValidated: type.customValidatedInputs,
                errorsBefore: report.errors.count))
    }

    /// Checks the frame's inputs from where it stopped. Returns the id of a linked source that must
    /// be validated first (the walk then calls again with its verdict), or nil when all are checked.
    private mutating func advance(_ frame: inout Frame) -> String? {
        while frame.next < frame.items.count {
            let (spec, value, declared) = frame.items[frame.next]
            let customValidated = frame.customValidated.contains(spec.name)
            switch value {
            case nil:
                if !spec.isOptional {
                    fail(.requiredInputMissing, "Required input is missing", details: spec.name, frame.node, spec)
                }
            case .malformedLink(let json)?:
                if declared {
                    fail(
                        .badLinkedInput, "Bad linked input, must be a length-2 list of [node_id, slot_index]",
                        details: "\(spec.name): \(json.serialized())", frame.node, spec)
                }
            case let .link(sourceId, slot)?:
                guard let source = index.node(sourceId) else {
                    fail(
                        .missingLinkedNode, "Input is linked to a node that does not exist",
                        details: "\(spec.name) is linked to node '\(sourceId)', which is not in the workflow",
                        frame.node, spec)
                    frame.upstreamValid = false
                    break
                }
                // The source is validated whatever is wrong with this link, so its own problems
                // are reported in the same pass.
                guard let sourceValid = frame.sourceVerdict else { return sourceId }
                frame.sourceVerdict = nil
                let skipTypeCheck = !declared || customValidated
                if !checkLink(
                    frame.node, spec, source: source, slot: slot, sourceValid: sourceValid,
                    skipTypeCheck: skipTypeCheck)
                {
                    frame.upstreamValid = false
                }
            case .constant(let json)?:
                if !declared {
                    frame.constants[spec.name] = ConstantConversion.natural(json)
                } else if let converted = checkConstant(frame.node, spec, json, customValidated: customValidated) {
                    frame.constants[spec.name] = converted
                }
            }
            frame.next += 1
        }
        return nil
    }

    /// Custom validation once the node's own inputs are fine; records and returns the verdict.
    private mutating func finish(_ frame: Frame) -> Bool {
        let id = frame.node.id
        if report.errors.count == frame.errorsBefore,
            let message = frame.type.validate(NodeConstants(frame.constants), environment: environment)
        {
            fail(.customValidationFailed, "Custom validation failed for node", details: message, frame.node, nil)
        }
        let valid = report.errors.count == frame.errorsBefore && frame.upstreamValid
        if valid { report.constants[id] = frame.constants }
        verdicts[id] = valid
        visiting.remove(id)
        return valid
    }

    // MARK: Inputs

    private mutating func checkLink(
        _ node: WorkflowNode, _ spec: InputSpec, source: WorkflowNode, slot: Int,
        sourceValid: Bool, skipTypeCheck: Bool
    ) -> Bool {
        guard let sourceSchema = registry.schema(source.classType) else { return false }
        guard slot >= 0, slot < sourceSchema.outputs.count else {
            fail(
                .badLinkedInput, "Bad linked input: the source node has no such output",
                details:
                    "\(spec.name) is linked to output \(slot) of node \(source.id) (\(source.classType)), which has \(sourceSchema.outputs.count) output(s)",
                node, spec)
            return false
        }
        let received = sourceSchema.outputs[slot].type
        if !skipTypeCheck && !spec.type.accepts(received) {
            fail(
                .returnTypeMismatch, "Return type mismatch between linked nodes",
                details: "\(spec.name), received_type(\(received.name)) mismatch input_type(\(spec.type.name))", node,
                spec,
                extra: [
                    ("received_type", .string(received.name)),
                    ("linked_node", .array([.string(source.id), .int(Int64(slot))])),
                ])
            return false
        }
        return sourceValid
    }

    private mutating func checkConstant(
        _ node: WorkflowNode, _ spec: InputSpec, _ json: JSONValue, customValidated: Bool
    ) -> (any Sendable)? {
        // A socket (MODEL, LATENT, ...) is fed by a link only: a constant there would reach the
        // node as a number where it expects a model. Nodes that validate an input themselves decide.
        if !spec.type.acceptsConstants && !customValidated {
            fail(
                .badLinkedInput, "Bad linked input, must be a length-2 list of [node_id, slot_index]",
                details: "\(spec.name): expected a link to \(Self.article(spec.type.name)) \(spec.type.name) output, "
                    + "got the constant \(json.serialized())",
                node, spec, extra: [("received_value", json)])
            return nil
        }
        let unsignedSeed = spec.takesUnsigned64 ? SixtyFourBitRange.unsigned(json) : nil
        if spec.type == .int, unsignedSeed == nil, let direction = SixtyFourBitRange.overflow(json) {
            let shown = json.stringValue ?? json.serialized()
            let bound =
                direction > 0
                ? (spec.takesUnsigned64 ? String(UInt64.max) : SixtyFourBitRange.maxText) : SixtyFourBitRange.minText
            fail(
                direction > 0 ? .valueBiggerThanMax : .valueSmallerThanMin,
                "Value \(shown) \(direction > 0 ? "bigger than max" : "smaller than min") of \(bound)",
                details: "\(spec.name): Latentflow holds INT values as 64-bit integers", node, spec,
                extra: [("received_value", json)])
            return nil
        }
        guard let value = ConstantConversion.convert(json, to: spec.type) else {
            fail(
                .invalidInputType, "Failed to convert an input value to a \(spec.type.name) value",
                details: "\(spec.name), \(json.serialized())", node, spec, extra: [("received_value", json)])
            return nil
        }
        if customValidated { return value }
        if let number = unsignedSeed.map({ Double($0) }) ?? (value as? Int).map(Double.init) ?? (value as? Double) {
            // NaN compares false with everything, so the range checks alone would let it through.
            if number.isNaN, spec.min != nil || spec.max != nil {
                fail(
                    .invalidInputType, "Value NaN is not a number",
                    details: "\(spec.name): NaN has no place in a range", node, spec, extra: [("received_value", json)])
                return nil
            }
            if let min = spec.min, number < min {
                fail(
                    .valueSmallerThanMin, "Value \(json.serialized()) smaller than min of \(Self.number(min, spec))",
                    details: spec.name, node, spec, extra: [("received_value", json)])
                return nil
            }
            if let max = spec.max, number > max {
                fail(
                    .valueBiggerThanMax, "Value \(json.serialized()) bigger than max of \(Self.number(max, spec))",
                    details: spec.name, node, spec, extra: [("received_value", json)])
                return nil
            }
        }
        if spec.type == .combo, let options = spec.options, let text = value as? String {
            let (choices, searched) = resolve(options)
            // An upload input also takes a name its catalog resolves beyond the listing: ComfyUI's
            // annotated `x.png [output]` (LoadImage's VALIDATE_INPUTS checks that the file exists).
            if !choices.contains(text), !(spec.imageUpload && Self.catalogResolves(text, options, environment)) {
                let listed =
                    choices.count > 20
                    ? "(list of length \(choices.count))"
                    : "[" + choices.map { "'\($0)'" }.joined(separator: ", ") + "]"
                var details = "\(spec.name): '\(text)' not in \(listed)"
                if let searched {
                    details +=
                        "; looked in \(searched.isEmpty ? "(no folders configured)" : searched.joined(separator: ", "))"
                }
                fail(
                    .valueNotInList, "Value not in list", details: details, node, spec,
                    extra: [("received_value", json)])
                return nil
            }
        }
        return value
    }

    private static func catalogResolves(
        _ name: String, _ options: ComboOptions, _ environment: ExecutionEnvironment
    ) -> Bool {
        guard let folder = options.folder, let url = try? environment.files.locate(name, in: folder) else {
            return false
        }
        return FileManager.default.fileExists(atPath: url.path)
    }

    private func resolve(_ options: ComboOptions) -> ([String], [String]?) {
        (options.choices(in: environment.files), options.folder.map { environment.files.searchPaths(for: $0) })
    }

    private static func number(_ value: Double, _ spec: InputSpec) -> String {
        spec.type == .int ? integerText(value) : JSONValue.pythonFloat(value)
    }

    private static func article(_ word: String) -> String {
        "AEIOU".contains(word.first ?? "x") ? "an" : "a"
    }
}
