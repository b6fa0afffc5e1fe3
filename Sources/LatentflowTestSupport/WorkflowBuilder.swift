import LatentflowGraph

/// Builds API-format workflows in tests: `let a = b.add("StubImage", ["content": "BLACK"])`,
/// then `b.add("StubOutput", ["images": a.out(0)])`.
public final class WorkflowBuilder {
    public private(set) var workflow = Workflow(nodes: [])
    private var nextId = 1

    public init() {}

    public struct Handle {
        public let id: String
        public func out(_ slot: Int) -> WorkflowInput { .link(nodeId: id, slot: slot) }
    }

    @discardableResult
    public func add(_ classType: String, id: String? = nil, title: String? = nil, _ inputs: [String: Any] = [:]) -> Handle {
        let nodeId = id ?? String(nextId)
        nextId += 1
        var node = WorkflowNode(id: nodeId, classType: classType, title: title)
        for (name, value) in inputs.sorted(by: { $0.key < $1.key }) {
            node.inputs.append((name, Self.input(value)))
        }
        workflow.nodes.append(node)
        return Handle(id: nodeId)
    }

    public func set(_ id: String, _ name: String, _ value: Any) {
        workflow[id]?.set(name, Self.input(value))
    }

    static func input(_ value: Any) -> WorkflowInput {
        switch value {
        case let link as WorkflowInput: return link
        case let v as Int: return .constant(.int(Int64(v)))
        case let v as Double: return .constant(.double(v))
        case let v as Bool: return .constant(.bool(v))
        case let v as String: return .constant(.string(v))
        case let v as JSONValue: return .constant(v)
        default: fatalError("unsupported test input \(value)")
        }
    }
}
