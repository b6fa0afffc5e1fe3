/// A node of a run whose inputs are still being gathered: the explicit-stack form of what the
/// recursive evaluation kept in its call frames. Linked inputs are evaluated in file order (lazy
/// ones skipped), then the node is asked which lazy inputs it needs until it needs no more.
struct PendingNode {
    let node: WorkflowNode
    let type: any Node.Type
    let key: CacheKey
    var lists: [String: [any Sendable]] = [:]
    /// The link whose result the node waits for while its source is evaluated.
    var awaiting: (name: String, source: String, slot: Int)?
    /// Created once the eager inputs are in, as the node answers `lazyInputsNeeded` (then runs).
    private(set) var instance: (any Node)?
    private var nextInput = 0
    private var lazyQueue: [String] = []

    init(node: WorkflowNode, type: any Node.Type, key: CacheKey) {
        (self.node, self.type, self.key) = (node, type, key)
    }

    /// The next linked input to evaluate, or nil when the node can run. Constants are taken
    /// into `lists` on the way; a result delivered for `awaiting` must be stored before calling.
    mutating func nextLink(constants: [String: any Sendable]) -> (name: String, source: String, slot: Int)? {
        awaiting = nil
        let schema = type.schema
        while nextInput < node.inputs.count {
            let (name, value) = node.inputs[nextInput]
            nextInput += 1
            switch value {
            case let .link(source, slot):
                if schema.input(named: name)?.isLazy == true { continue }
                return (name, source, slot)
            case .constant:
                if let converted = constants[name] { lists[name] = [converted] }
            case .malformedLink:
                continue
            }
        }
        let instance = self.instance ?? type.init()
        self.instance = instance
        while true {
            while !lazyQueue.isEmpty {
                let name = lazyQueue.removeFirst()
                if lists[name] == nil, case let .link(source, slot)? = node.input(name) { return (name, source, slot) }
            }
            // Inputs the node asks for that are not linked (or already in) cannot be provided;
            // asking again would loop forever.
            let needed = instance.lazyInputsNeeded(NodeInputs(lists: lists, index: 0)).filter { name in
                guard lists[name] == nil, case .link? = node.input(name) else { return false }
                return true
            }
            if needed.isEmpty { return nil }
            lazyQueue = needed
        }
    }
}
