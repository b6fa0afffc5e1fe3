/// Where a problem is: node id, class, title and (where one is involved) input.
public struct NodeLocation: Sendable, Equatable {
    public var nodeId: String
    public var classType: String
    public var title: String?
    public var input: String?

    public var readable: String {
        var text = "node \(nodeId) (\(classType)"
        if let title, title != classType { text += " \"\(title)\"" }
        text += ")"
        if let input { text += ", input '\(input)'" }
        return text
    }
}

/// One validation problem, with ComfyUI's error type names so machine clients keep working.
public struct ValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case invalidPrompt = "invalid_prompt"
        case noOutputs = "prompt_no_outputs"
        case requiredInputMissing = "required_input_missing"
        case badLinkedInput = "bad_linked_input"
        case missingLinkedNode = "exception_during_inner_validation"
        case returnTypeMismatch = "return_type_mismatch"
        case invalidInputType = "invalid_input_type"
        case valueSmallerThanMin = "value_smaller_than_min"
        case valueBiggerThanMax = "value_bigger_than_max"
        case valueNotInList = "value_not_in_list"
        case customValidationFailed = "custom_validation_failed"
        case dependencyCycle = "dependency_cycle"
    }

    public var kind: Kind
    public var message: String
    public var details: String
    public var extraInfo: JSONValue
    public var location: NodeLocation?

    public init(
        _ kind: Kind, _ message: String, details: String = "", extraInfo: JSONValue = .object([]),
        at location: NodeLocation? = nil
    ) {
        (self.kind, self.message, self.details, self.extraInfo, self.location) = (
            kind, message, details, extraInfo, location
        )
    }

    /// One line for people: where, what, and the detail.
    public var description: String {
        var line = location.map { $0.readable + ": " } ?? ""
        line += message
        if !details.isEmpty { line += " (\(details))" }
        return line
    }

    /// ComfyUI's error object: `{"type", "message", "details", "extra_info"}`.
    public var json: JSONValue {
        .object([
            ("type", .string(kind.rawValue)), ("message", .string(message)),
            ("details", .string(details)), ("extra_info", extraInfo),
        ])
    }
}

/// The outcome of validating a workflow: every problem, and which outputs can still run.
public struct ValidationReport: Sendable {
    public var errors: [ValidationError] = []
    /// Output nodes requested, and those whose whole upstream graph is valid.
    public var outputs: [String] = []
    public var validOutputs: [String] = []
    /// Output ids that depend on each failing node.
    public var dependentOutputs: [String: [String]] = [:]
    /// Constant inputs of every valid node, converted to their declared Swift types.
    var constants: [String: [String: any Sendable]] = [:]
    var promptFailed = false

    /// True when nothing at all is wrong.
    public var isValid: Bool { errors.isEmpty }
    /// True when at least one output can run (ComfyUI queues those and reports the rest).
    public var isRunnable: Bool { !promptFailed && !validOutputs.isEmpty }

    /// ComfyUI's HTTP 400 body: `{"error": {...}, "node_errors": {id: {errors, dependent_outputs, class_type}}}`.
    public var json: JSONValue {
        let promptError: JSONValue
        if let top = errors.first(where: { $0.kind == .invalidPrompt || $0.kind == .noOutputs }) {
            promptError = top.json
        } else {
            let lines = errors.map { "\($0.message): \($0.details)" }.joined(separator: "\n")
            promptError = .object([
                ("type", .string("prompt_outputs_failed_validation")),
                ("message", .string("Prompt outputs failed validation")),
                ("details", .string(lines)), ("extra_info", .object([])),
            ])
        }
        var nodeErrors: [(key: String, value: JSONValue)] = []
        for error in errors {
            guard let location = error.location else { continue }
            if let i = nodeErrors.firstIndex(where: { $0.key == location.nodeId }),
                case .object(var body) = nodeErrors[i].value, case .array(var list) = body[0].value
            {
                list.append(error.json)
                body[0].value = .array(list)
                nodeErrors[i].value = .object(body)
            } else {
                let dependents = (dependentOutputs[location.nodeId] ?? []).map(JSONValue.string)
                nodeErrors.append(
                    (
                        location.nodeId,
                        .object([
                            ("errors", .array([error.json])), ("dependent_outputs", .array(dependents)),
                            ("class_type", .string(location.classType)),
                        ])
                    ))
            }
        }
        return .object([("error", errors.isEmpty ? .null : promptError), ("node_errors", .object(nodeErrors))])
    }
}

/// Thrown when a workflow cannot run; carries the whole report.
public struct WorkflowValidationFailure: Error, CustomStringConvertible {
    public let report: ValidationReport

    public init(report: ValidationReport) { self.report = report }

    public var description: String {
        "workflow failed validation:\n" + report.errors.map { "  - \($0)" }.joined(separator: "\n")
    }
}
