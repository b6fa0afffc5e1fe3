import Foundation

/// Validates a whole workflow before anything runs, collecting every problem
/// (ComfyUI's `validate_prompt` / `validate_inputs`, plus explicit cycle detection).
struct Validator {
    let workflow: Workflow
    let registry: NodeRegistry
    let environment: ExecutionEnvironment

    private var report = ValidationReport()
    private var verdicts: [String: Bool] = [:]
    private var visiting: Set<String> = []
    private var visitedByOutput: Set<String> = []

    init(workflow: Workflow, registry: NodeRegistry, environment: ExecutionEnvironment) {
        (self.workflow, self.registry, self.environment) = (workflow, registry, environment)
    }

    mutating func run(targets: [String]?) -> ValidationReport {
        for node in workflow.nodes where registry.node(node.classType) == nil {
            report.errors.append(
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
        let cycles = CycleFinder(workflow: workflow).nodesInCycles(from: report.outputs)
        for id in cycles.sorted() {
            guard let node = workflow.node(id) else { continue }
            report.errors.append(
                ValidationError(
                    .dependencyCycle, "Dependency cycle detected",
                    details: "node \(id) depends on its own output", at: location(node)))
            verdicts[id] = false
        }
        for output in report.outputs {
            visitedByOutput = []
            if validate(output) { report.validOutputs.append(output) }
            for id in visitedByOutput where report.errors.contains(where: { $0.location?.nodeId == id }) {
                report.dependentOutputs[id, default: []].append(output)
            }
        }
        return report
    }

    private mutating func outputNodes(targets: [String]?) -> [String] {
        if let targets {
            var found: [String] = []
            for id in targets {
                if workflow.node(id) != nil {
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

    private mutating func fail(
        _ kind: ValidationError.Kind, _ message: String, details: String, _ node: WorkflowNode,
        _ input: InputSpec?, extra: [(key: String, value: JSONValue)] = []
    ) {
        var info: [(key: String, value: JSONValue)] = input.map { [("input_name", .string($0.name))] } ?? []
        info += extra
        report.errors.append(
            ValidationError(kind, message, details: details, extraInfo: .object(info), at: location(node, input?.name)))
    }

    /// True when the node and everything upstream of it are valid. Memoized.
    private mutating func validate(_ id: String) -> Bool {
        visitedByOutput.insert(id)
        if let verdict = verdicts[id] { return verdict }
        guard !visiting.contains(id), let node = workflow.node(id), let type = registry.node(node.classType) else {
            return false
        }
        visiting.insert(id)
        defer { visiting.remove(id) }
        let schema = type.schema
        let errorsBefore = report.errors.count
        var upstreamValid = true
        var constants: [String: any Sendable] = [:]

        for spec in schema.inputs {
            guard let value = node.input(spec.name) else {
                if !spec.isOptional {
                    fail(.requiredInputMissing, "Required input is missing", details: spec.name, node, spec)
                }
                continue
            }
            switch value {
            case .malformedLink(let json):
                fail(
                    .badLinkedInput, "Bad linked input, must be a length-2 list of [node_id, slot_index]",
                    details: "\(spec.name): \(json.serialized())", node, spec)
            case let .link(sourceId, slot):
                if !checkLink(
                    node, spec, sourceId: sourceId, slot: slot,
                    skipTypeCheck: type.customValidatedInputs.contains(spec.name))
                {
                    upstreamValid = false
                }
            case .constant(let json):
                if let converted = checkConstant(
                    node, spec, json, customValidated: type.customValidatedInputs.contains(spec.name))
                {
                    constants[spec.name] = converted
                }
            }
        }
        // Undeclared constant inputs still reach the node (ComfyUI passes them as kwargs).
        for (name, value) in node.inputs where schema.input(named: name) == nil {
            switch value {
            case .constant(let json): constants[name] = ConstantConversion.natural(json)
            case let .link(sourceId, slot):
                let spec = InputSpec(name: name, type: .any)
                if !checkLink(node, spec, sourceId: sourceId, slot: slot, skipTypeCheck: true) { upstreamValid = false }
            case .malformedLink: break
            }
        }
        if report.errors.count == errorsBefore,
            let message = type.validate(NodeConstants(constants), environment: environment)
        {
            fail(.customValidationFailed, "Custom validation failed for node", details: message, node, nil)
        }
        let valid = report.errors.count == errorsBefore && upstreamValid
        if valid { report.constants[id] = constants }
        verdicts[id] = valid
        return valid
    }

    private mutating func checkLink(
        _ node: WorkflowNode, _ spec: InputSpec, sourceId: String, slot: Int, skipTypeCheck: Bool
    ) -> Bool {
        guard let source = workflow.node(sourceId) else {
            fail(
                .missingLinkedNode, "Input is linked to a node that does not exist",
                details: "\(spec.name) is linked to node '\(sourceId)', which is not in the workflow", node, spec)
            return false
        }
        // The source is validated whatever is wrong with this link, so its own problems are
        // reported in the same pass.
        let sourceValid = validate(sourceId)
        guard let sourceSchema = registry.schema(source.classType) else { return false }
        guard slot >= 0, slot < sourceSchema.outputs.count else {
            fail(
                .badLinkedInput, "Bad linked input: the source node has no such output",
                details:
                    "\(spec.name) is linked to output \(slot) of node \(sourceId) (\(source.classType)), which has \(sourceSchema.outputs.count) output(s)",
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
                    ("linked_node", .array([.string(sourceId), .int(Int64(slot))])),
                ])
            return false
        }
        return sourceValid
    }

    private mutating func checkConstant(
        _ node: WorkflowNode, _ spec: InputSpec, _ json: JSONValue, customValidated: Bool
    ) -> (any Sendable)? {
        guard let value = ConstantConversion.convert(json, to: spec.type) else {
            fail(
                .invalidInputType, "Failed to convert an input value to a \(spec.type.name) value",
                details: "\(spec.name), \(json.serialized())", node, spec, extra: [("received_value", json)])
            return nil
        }
        if customValidated { return value }
        if let number = (value as? Int).map(Double.init) ?? (value as? Double) {
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
            if !choices.contains(text) {
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

    private func resolve(_ options: ComboOptions) -> ([String], [String]?) {
        switch options {
        case .fixed(let list): return (list, nil)
        case .files(let folder):
            return (environment.files.files(in: folder), environment.files.searchPaths(for: folder))
        }
    }

    private static func number(_ value: Double, _ spec: InputSpec) -> String {
        spec.type == .int ? integerText(value) : JSONValue.pythonFloat(value)
    }
}

/// ComfyUI's constant coercions (`execution.py` `validate_inputs`): `int(v)`, `float(v)`,
/// `str(v)`, `bool(v)` by declared type; other types pass through unchanged.
enum ConstantConversion {
    static func convert(_ json: JSONValue, to type: PortType) -> (any Sendable)? {
        switch type {
        case .int:
            switch json {
            case .int(let v): return Int(exactly: v)
            case .double(let v): return v.isFinite ? Int(exactly: v.rounded(.towardZero)) : nil
            case .bool(let b): return b ? 1 : 0
            case .string(let s): return Int(s.trimmingCharacters(in: .whitespaces))
            default: return nil
            }
        case .float:
            switch json {
            case .int(let v): return Double(v)
            case .double(let v): return v
            case .bool(let b): return b ? 1.0 : 0.0
            case .string(let s): return Double(s.trimmingCharacters(in: .whitespaces))
            default: return nil
            }
        case .string:
            switch json {
            case .string(let s): return s
            case .int(let v): return String(v)
            case .double(let v): return JSONValue.pythonFloat(v)
            case .bool(let b): return b ? "True" : "False"
            case .null: return "None"
            default: return json.serialized()
            }
        case .boolean:
            switch json {
            case .bool(let b): return b
            case .int(let v): return v != 0
            case .double(let v): return v != 0
            case .string(let s): return !s.isEmpty
            case .null: return false
            case .array(let a): return !a.isEmpty
            case .object(let o): return !o.isEmpty
            }
        case .combo:
            return json.stringValue
        default:
            return natural(json)
        }
    }

    /// A JSON constant as the plain Swift value a node would expect.
    static func natural(_ json: JSONValue) -> any Sendable {
        switch json {
        case .int(let v): return Int(exactly: v) ?? Double(v)
        case .double(let v): return v
        case .string(let s): return s
        case .bool(let b): return b
        default: return json
        }
    }
}

/// Finds the nodes that lie on a cycle among those reachable from the outputs (Tarjan's SCCs).
struct CycleFinder {
    let workflow: Workflow

    func nodesInCycles(from outputs: [String]) -> Set<String> {
        var index = 0
        var indices: [String: Int] = [:], lowlinks: [String: Int] = [:]
        var stack: [String] = [], onStack: Set<String> = []
        var result: Set<String> = []

        func successors(_ id: String) -> [String] {
            workflow.node(id)?.inputs.compactMap { input in
                if case let .link(source, _) = input.value, workflow.node(source) != nil { return source }
                return nil
            } ?? []
        }

        func connect(_ id: String) {
            indices[id] = index
            lowlinks[id] = index
            index += 1
            stack.append(id)
            onStack.insert(id)
            for next in successors(id) {
                if indices[next] == nil {
                    connect(next)
                    lowlinks[id] = min(lowlinks[id]!, lowlinks[next]!)
                } else if onStack.contains(next) {
                    lowlinks[id] = min(lowlinks[id]!, indices[next]!)
                }
            }
            if lowlinks[id] == indices[id] {
                var component: [String] = []
                while let top = stack.popLast() {
                    onStack.remove(top)
                    component.append(top)
                    if top == id { break }
                }
                if component.count > 1 || successors(id).contains(id) { result.formUnion(component) }
            }
        }

        for output in outputs where indices[output] == nil && workflow.node(output) != nil { connect(output) }
        return result
    }
}
