/// The largest graph Latentflow accepts. Validation, planning and the UI converter are linear in
/// nodes plus links, but a graph of millions of nodes is still an attack, not a workflow
/// (ComfyUI's biggest real workflows have a few thousand nodes).
public struct GraphLimits: Sendable, Equatable {
    public var maxNodes: Int
    public var maxLinks: Int

    public static let standard = GraphLimits()

    public init(maxNodes: Int = 100_000, maxLinks: Int = 100_000) {
        (self.maxNodes, self.maxLinks) = (maxNodes, maxLinks)
    }

    /// Why a graph of this size is refused, or nil when it is within the limits.
    func violation(nodes: Int, links: Int) -> String? {
        if nodes > maxNodes { return "The workflow has \(nodes) nodes, more than the limit of \(maxNodes) nodes" }
        if links > maxLinks { return "The workflow has \(links) links, more than the limit of \(maxLinks) links" }
        return nil
    }

    func violation(_ workflow: Workflow) -> String? {
        let links = workflow.nodes.reduce(0) { count, node in
            count + node.inputs.count(where: { if case .link = $0.value { true } else { false } })
        }
        return violation(nodes: workflow.nodes.count, links: links)
    }
}
