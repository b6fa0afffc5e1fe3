/// A typed handle on one node output while composing a workflow in Swift.
public struct OutputRef<Value: PortValue>: Sendable {
    public let nodeId: String
    public let slot: Int

    public init(nodeId: String, slot: Int) { (self.nodeId, self.slot) = (nodeId, slot) }
}

/// A value a node input can take while composing: a constant or a port.
public protocol GraphArgument {
    var workflowInput: WorkflowInput { get }
}

extension OutputRef: GraphArgument {
    public var workflowInput: WorkflowInput { .link(nodeId: nodeId, slot: slot) }
}
extension Int: GraphArgument { public var workflowInput: WorkflowInput { .constant(.int(Int64(self))) } }
extension Double: GraphArgument { public var workflowInput: WorkflowInput { .constant(.double(self)) } }
extension String: GraphArgument { public var workflowInput: WorkflowInput { .constant(.string(self)) } }
extension Bool: GraphArgument { public var workflowInput: WorkflowInput { .constant(.bool(self)) } }
extension JSONValue: GraphArgument { public var workflowInput: WorkflowInput { .constant(self) } }
extension WorkflowInput: GraphArgument { public var workflowInput: WorkflowInput { self } }

/// Composes workflows from Swift, typed or by class name. Typed, with a pack's helpers:
/// `let canvas = g.emptyImage(width: 64, height: 64)` then `g.saveImage(g.imageInvert(canvas))`
/// (an `OutputRef<Mask>` where an image is expected does not compile). By name, as tests do:
/// `let a = g.add("StubImage", ["content": "BLACK"])` then `g.add("StubOutput", ["images": a.out(0)])`.
/// The result is an ordinary API-format `Workflow`, validated and run like any other.
public final class GraphBuilder {
    public private(set) var workflow = Workflow(nodes: [])
    private var counter = 0

    public init() {}

    /// A node added to the graph; ask it for typed outputs.
    public struct NodeReference: Sendable {
        public let id: String

        public func output<T: PortValue>(_ slot: Int, as type: T.Type = T.self) -> OutputRef<T> {
            OutputRef(nodeId: id, slot: slot)
        }

        /// The untyped link to an output, for graphs built by class name.
        public func out(_ slot: Int) -> WorkflowInput { .link(nodeId: id, slot: slot) }
    }

    /// Adds a node of the given type. Inputs whose value is nil are left out.
    @discardableResult
    public func add<N: Node>(
        _ type: N.Type, id: String? = nil, title: String? = nil,
        _ inputs: [String: (any GraphArgument)?]
    ) -> NodeReference {
        add(N.schema.classType, id: id, title: title, inputs)
    }

    /// Adds a node by class type (for nodes only known by name).
    @discardableResult
    public func add(
        _ classType: String, id: String? = nil, title: String? = nil,
        _ inputs: [String: (any GraphArgument)?] = [:]
    ) -> NodeReference {
        counter += 1
        let id = id ?? String(counter)
        var node = WorkflowNode(id: id, classType: classType, title: title)
        for (name, value) in inputs.sorted(by: { $0.key < $1.key }) {
            if let value { node.inputs.append((name, value.workflowInput)) }
        }
        workflow.nodes.append(node)
        return NodeReference(id: id)
    }

    /// Replaces (or adds) one input of a node already in the graph.
    public func set(_ id: String, _ name: String, _ value: any GraphArgument) {
        workflow[id]?.set(name, value.workflowInput)
    }
}
