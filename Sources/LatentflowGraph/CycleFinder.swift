/// Finds the nodes that lie on a cycle among those reachable from the outputs (Tarjan's strongly
/// connected components), with an explicit stack: a recursive walk overflowed the thread's stack
/// on chains of a few thousand nodes.
struct CycleFinder {
    let index: WorkflowIndex

    private struct Visit {
        let id: String
        let successors: [String]
        var next = 0
    }

    func nodesInCycles(from outputs: [String]) -> Set<String> {
        var counter = 0
        var indices: [String: Int] = [:], lowlinks: [String: Int] = [:]
        var stack: [String] = [], onStack: Set<String> = []
        var result: Set<String> = []
        var visits: [Visit] = []

        func open(_ id: String) {
            indices[id] = counter
            lowlinks[id] = counter
            counter += 1
            stack.append(id)
            onStack.insert(id)
            visits.append(Visit(id: id, successors: index.sources(of: id)))
        }

        for output in outputs where indices[output] == nil && index.contains(output) {
            open(output)
            while let top = visits.indices.last {
                let id = visits[top].id
                if visits[top].next < visits[top].successors.count {
                    let next = visits[top].successors[visits[top].next]
                    visits[top].next += 1
                    if indices[next] == nil {
                        open(next)
                    } else if onStack.contains(next) {
                        lowlinks[id] = min(lowlinks[id]!, indices[next]!)
                    }
                    continue
                }
                let finished = visits.removeLast()
                if lowlinks[id] == indices[id] {
                    var component: [String] = []
                    while let member = stack.popLast() {
                        onStack.remove(member)
                        component.append(member)
                        if member == id { break }
                    }
                    if component.count > 1 || finished.successors.contains(id) { result.formUnion(component) }
                }
                if let parent = visits.last { lowlinks[parent.id] = min(lowlinks[parent.id]!, lowlinks[id]!) }
            }
        }
        return result
    }
}
