import Foundation

extension UIWorkflowConverter {
    /// The UI graph with one widget of node `nodeId` set to `value`, as the frontend saves it after
    /// the value is typed in, so the `workflow` chunk of an output loads the graph that ran. Nil when
    /// the graph has no such node or `input` is not one of its saved widgets (a socket, say).
    public func settingWidget(in graph: JSONValue, nodeId: String, input: String, to value: JSONValue) -> JSONValue? {
        guard case .object(var top) = graph, let nodesKey = top.firstIndex(where: { $0.key == "nodes" }),
            var nodes = top[nodesKey].value.arrayValue,
            let position = nodes.firstIndex(where: { Self.identifier($0["id"]) == nodeId }),
            let node = try? Self.parseNode(nodes[position]), let schema = registry.schema(node.type),
            case .object(var fields) = nodes[position],
            let valuesKey = fields.firstIndex(where: { $0.key == "widgets_values" })
        else { return nil }
        switch fields[valuesKey].value {
        case .array(var list):
            guard let slot = widgetSlots(list, schema: schema).first(where: { $0.name == input }) else { return nil }
            list[slot.index] = value
            fields[valuesKey].value = .array(list)
        case .object(var named):
            guard let key = named.firstIndex(where: { $0.key == input }) else { return nil }
            named[key].value = value
            fields[valuesKey].value = .object(named)
        default:
            return nil
        }
        nodes[position] = .object(fields)
        top[nodesKey].value = .array(nodes)
        return .object(top)
    }
}
