import Foundation

/// An input's value in an API-format workflow.
public enum WorkflowInput: Sendable, Equatable {
    /// `[source_node_id, output_slot]`.
    case link(nodeId: String, slot: Int)
    case constant(JSONValue)
    /// A list that is not a valid link (ComfyUI's bad_linked_input).
    case malformedLink(JSONValue)
}

/// One node of an API-format workflow.
public struct WorkflowNode: Sendable, Equatable {
    public var id: String
    public var classType: String
    public var title: String?
    /// Inputs in file order.
    public var inputs: [(name: String, value: WorkflowInput)]

    public init(
        id: String, classType: String, title: String? = nil, inputs: [(name: String, value: WorkflowInput)] = []
    ) {
        (self.id, self.classType, self.title, self.inputs) = (id, classType, title, inputs)
    }

    public func input(_ name: String) -> WorkflowInput? { inputs.last { $0.name == name }?.value }

    public mutating func set(_ name: String, _ value: WorkflowInput) {
        if let i = inputs.firstIndex(where: { $0.name == name }) {
            inputs[i].value = value
        } else {
            inputs.append((name, value))
        }
    }

    public static func == (a: WorkflowNode, b: WorkflowNode) -> Bool {
        a.id == b.id && a.classType == b.classType && a.title == b.title
            && a.inputs.map(\.name) == b.inputs.map(\.name) && a.inputs.map(\.value) == b.inputs.map(\.value)
    }
}

/// A workflow in ComfyUI's API ("prompt") form: node id → class and inputs.
public struct Workflow: Sendable, Equatable {
    public var nodes: [WorkflowNode]

    public init(nodes: [WorkflowNode]) { self.nodes = nodes }

    public func node(_ id: String) -> WorkflowNode? { nodes.first { $0.id == id } }

    public subscript(id: String) -> WorkflowNode? {
        get { node(id) }
        set {
            if let i = nodes.firstIndex(where: { $0.id == id }) {
                if let newValue { nodes[i] = newValue } else { nodes.remove(at: i) }
            } else if let newValue {
                nodes.append(newValue)
            }
        }
    }
}

public struct WorkflowFormatError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension Workflow {
    /// Parses the API format: `{"3": {"class_type": "KSampler", "inputs": {...}, "_meta": {"title": ...}}}`.
    public init(apiJSON json: JSONValue) throws {
        guard let pairs = json.objectPairs else {
            throw WorkflowFormatError("an API-format workflow is a JSON object of nodes, got a \(json.kindName)")
        }
        var nodes: [WorkflowNode] = []
        for (id, body) in pairs {
            guard body.objectPairs != nil else {
                throw WorkflowFormatError("node \(id): expected an object, got a \(body.kindName)")
            }
            guard let classType = body["class_type"]?.stringValue else {
                throw WorkflowFormatError("node \(id): missing the class_type property")
            }
            var node = WorkflowNode(id: id, classType: classType, title: body["_meta"]?["title"]?.stringValue)
            if let inputs = body["inputs"] {
                guard let inputPairs = inputs.objectPairs else {
                    throw WorkflowFormatError("node \(id): inputs is not an object")
                }
                node.inputs = inputPairs.map { ($0.key, WorkflowInput(json: $0.value)) }
            }
            nodes.append(node)
        }
        self.init(nodes: nodes)
    }

    /// The API-format JSON of this workflow.
    public var apiJSON: JSONValue {
        .object(
            nodes.map { node in
                var body: [(key: String, value: JSONValue)] = [
                    ("inputs", .object(node.inputs.map { ($0.name, $0.value.json) })),
                    ("class_type", .string(node.classType)),
                ]
                if let title = node.title { body.append(("_meta", .object([("title", .string(title))]))) }
                return (node.id, .object(body))
            })
    }
}

extension WorkflowInput {
    init(json: JSONValue) {
        switch json {
        case .array(let items):
            if items.count == 2, let slot = items[1].intValue {
                switch items[0] {
                case .string(let id):
                    self = .link(nodeId: id, slot: slot)
                    return
                case .int(let id):
                    self = .link(nodeId: String(id), slot: slot)
                    return
                default: break
                }
            }
            self = .malformedLink(json)
        case .object:
            // A constant list travels wrapped as {"__value__": [...]}.
            if let wrapped = json["__value__"], json.objectPairs?.count == 1 {
                self = .constant(wrapped)
            } else {
                self = .constant(json)
            }
        default:
            self = .constant(json)
        }
    }

    var json: JSONValue {
        switch self {
        case let .link(id, slot): return .array([.string(id), .int(Int64(slot))])
        case .constant(let value):
            if case .array = value { return .object([("__value__", value)]) }
            return value
        case .malformedLink(let value): return value
        }
    }
}
