/// Constant-time node lookup by id. `Workflow.node(_:)` scans the node list, which made every
/// graph walk quadratic; walks build this once instead. The first node with an id wins, as there.
struct WorkflowIndex {
    let workflow: Workflow
    private let positions: [String: Int]

    init(_ workflow: Workflow) {
        self.workflow = workflow
        var positions: [String: Int] = [:]
        positions.reserveCapacity(workflow.nodes.count)
        for (position, node) in workflow.nodes.enumerated() where positions[node.id] == nil {
            positions[node.id] = position
        }
        self.positions = positions
    }

    func node(_ id: String) -> WorkflowNode? { positions[id].map { workflow.nodes[$0] } }

    func contains(_ id: String) -> Bool { positions[id] != nil }

    /// The ids of the nodes this node's inputs link to (that exist), in input order.
    func sources(of id: String) -> [String] {
        node(id)?.inputs.compactMap { input in
            if case let .link(source, _) = input.value, contains(source) { return source }
            return nil
        } ?? []
    }
}
