/// Converts ComfyUI's UI/graph format (what "Save" writes and PNGs carry as `workflow`) into the
/// API form, as the frontend's `graphToPrompt` does: widget values mapped to input names through
/// each node's schema, Reroute and PrimitiveNode resolved, notes dropped, muted nodes dropped and
/// bypassed nodes rewired.
public struct UIWorkflowConverter {
    public let registry: NodeRegistry
    /// The largest UI graph converted (virtual nodes count: each one is a step to resolve).
    public let limits: GraphLimits

    public init(registry: NodeRegistry, limits: GraphLimits = .standard) {
        (self.registry, self.limits) = (registry, limits)
    }

    /// Frontend-only nodes that never reach the backend.
    static let virtualTypes: Set<String> = ["Reroute", "PrimitiveNode", "Note", "MarkdownNote"]

    struct UINode {
        var id: String
        var type: String
        var mode: Int
        var title: String?
        var inputs: [(name: String, type: String, link: Int?, widget: String?)]
        var widgetValues: JSONValue?
    }

    struct UILink {
        var origin: String
        var slot: Int
        var type: String
    }

    /// True when the JSON looks like the UI format rather than the API format.
    public static func isUIFormat(_ json: JSONValue) -> Bool { json["nodes"]?.arrayValue != nil }

    public func convert(_ json: JSONValue) throws -> Workflow {
        if let subgraphs = json["definitions"]?["subgraphs"]?.arrayValue, !subgraphs.isEmpty {
            throw WorkflowFormatError(
                "this workflow uses subgraphs, which Latentflow does not expand yet; export it in API format instead")
        }
        guard let nodeList = json["nodes"]?.arrayValue else {
            throw WorkflowFormatError("a UI-format workflow needs a 'nodes' list")
        }
        let linkList = json["links"]?.arrayValue ?? []
        if let violation = limits.violation(nodes: nodeList.count, links: linkList.count) {
            throw WorkflowFormatError(violation)
        }
        let nodes = try nodeList.map(Self.parseNode)
        let byId = Dictionary(nodes.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let links = try Self.parseLinks(linkList)
        var resolved: [Int: Resolution] = [:]

        var workflow = Workflow(nodes: [])
        for node in nodes where !Self.virtualTypes.contains(node.type) && node.mode != 2 && node.mode != 4 {
            var apiNode = WorkflowNode(
                id: node.id, classType: node.type,
                title: node.title ?? registry.schema(node.type)?.displayName)
            if let schema = registry.schema(node.type) {
                for (name, value) in widgetAssignments(node, schema: schema) { apiNode.set(name, .constant(value)) }
            }
            for input in node.inputs {
                guard let linkId = input.link else { continue }
                switch resolve(linkId: linkId, links: links, nodes: byId, resolved: &resolved) {
                case .link(let origin, let slot): apiNode.set(input.name, .link(nodeId: origin, slot: slot))
                case .value(let value): apiNode.set(input.widget ?? input.name, .constant(value))
                case .dropped: apiNode.inputs.removeAll { $0.name == input.name }
                }
            }
            workflow.nodes.append(apiNode)
        }
        return workflow
    }

    // MARK: Widgets

    /// Widget values by input name, consuming `widgets_values` in schema order and skipping the
    /// hidden control-after-generate and upload widgets.
    /// Widgets without a saved value get the schema default, as the frontend creates them.
    func widgetAssignments(_ node: UINode, schema: NodeSchema) -> [(String, JSONValue)] {
        var result = savedWidgetValues(node, schema: schema)
        for spec in schema.inputs where spec.isWidget && !result.contains(where: { $0.0 == spec.name }) {
            if let value = spec.defaultValue { result.append((spec.name, value)) }
        }
        return result
    }

    private func savedWidgetValues(_ node: UINode, schema: NodeSchema) -> [(String, JSONValue)] {
        guard let values = node.widgetValues else { return [] }
        if let named = values.objectPairs {
            return schema.inputs.filter(\.isWidget).compactMap { spec in
                named.first { $0.key == spec.name }.map { (spec.name, $0.value) }
            }
        }
        guard let list = values.arrayValue else { return [] }
        return widgetSlots(list, schema: schema).map { ($0.name, list[$0.index]) }
    }

    /// Where each widget's value sits in a `widgets_values` list: schema order, skipping the hidden
    /// control-after-generate and upload values.
    func widgetSlots(_ list: [JSONValue], schema: NodeSchema) -> [(name: String, index: Int)] {
        var slots: [(name: String, index: Int)] = []
        var index = 0
        for spec in schema.inputs where spec.isWidget {
            guard index < list.count else { break }
            slots.append((spec.name, index))
            index += 1
            let hasControl =
                spec.controlAfterGenerate || (spec.type == .int && ["seed", "noise_seed"].contains(spec.name))
            if hasControl, index < list.count, Self.isControlValue(list[index]) { index += 1 }
            if spec.imageUpload { index += 1 }
        }
        return slots
    }

    static func isControlValue(_ value: JSONValue) -> Bool {
        if case .bool = value { return true }
        return ["fixed", "increment", "decrement", "randomize"].contains(value.stringValue ?? "")
    }

    // MARK: Links

    enum Resolution {
        case link(String, Int)
        case value(JSONValue)
        case dropped
    }

    /// Follows a link upstream through Reroutes, PrimitiveNodes and bypassed nodes to a real output.
    /// A loop, not recursion, so a chain of thousands of Reroutes fits the stack; every link on the
    /// way is memoized in `resolved`, so chains shared by many inputs are followed once.
    func resolve(
        linkId: Int, links: [Int: UILink], nodes: [String: UINode],
        resolved: inout [Int: Resolution]
    ) -> Resolution {
        var path: [Int] = []
        var seen: Set<String> = []
        var current = linkId
        var outcome = Resolution.dropped
        while true {
            if let known = resolved[current] {
                outcome = known
                break
            }
            path.append(current)
            // A node met twice means the links loop: nothing real feeds the input.
            guard let link = links[current], let origin = nodes[link.origin], seen.insert(origin.id).inserted else {
                break
            }
            switch step(link, from: origin) {
            case .upstream(let next):
                current = next
                continue
            case .done(let resolution): outcome = resolution
            }
            break
        }
        for id in path { resolved[id] = outcome }
        return outcome
    }

    private enum Step {
        case upstream(Int)
        case done(Resolution)
    }

    /// What one link's origin makes of it: a real output, a value, nothing, or the link to follow.
    private func step(_ link: UILink, from origin: UINode) -> Step {
        switch origin.type {
        case "Reroute":
            guard let upstream = origin.inputs.first?.link else { return .done(.dropped) }
            return .upstream(upstream)
        case "PrimitiveNode":
            if let value = origin.widgetValues?.arrayValue?.first { return .done(.value(value)) }
            return .done(.dropped)
        default:
            break
        }
        if origin.mode == 2 { return .done(.dropped) }
        if origin.mode == 4 {
            // Bypass: take the bypassed node's input of a matching type: the same slot if its
            // type fits, else the first exact type match, else the first compatible one.
            let wanted = PortType(link.type)
            let candidates = origin.inputs.enumerated().filter { $0.element.link != nil }
            let pick =
                candidates.first { $0.offset == link.slot && wanted.accepts(PortType($0.element.type)) }
                ?? candidates.first { PortType($0.element.type) == wanted }
                ?? candidates.first { wanted.accepts(PortType($0.element.type)) }
            guard let upstream = pick?.element.link else { return .done(.dropped) }
            return .upstream(upstream)
        }
        return .done(.link(origin.id, link.slot))
    }

    // MARK: Parsing

    static func identifier(_ json: JSONValue?) -> String? {
        switch json {
        case .int(let v)?: return String(v)
        case .string(let s)?: return s
        case .double(let d)?: return Int(exactly: d).map(String.init)
        default: return nil
        }
    }

    static func parseNode(_ json: JSONValue) throws -> UINode {
        guard let id = identifier(json["id"]), let type = json["type"]?.stringValue else {
            throw WorkflowFormatError("a UI node lacks its id or type: \(json.serialized().prefix(120))")
        }
        let inputs = (json["inputs"]?.arrayValue ?? []).map { input in
            (
                name: input["name"]?.stringValue ?? "", type: input["type"]?.stringValue ?? "*",
                link: input["link"]?.intValue, widget: input["widget"]?["name"]?.stringValue
            )
        }
        return UINode(
            id: id, type: type, mode: json["mode"]?.intValue ?? 0, title: json["title"]?.stringValue,
            inputs: inputs, widgetValues: json["widgets_values"])
    }

    /// Links in the 0.4 array form `[id, origin, slot, target, target_slot, type]` or the
    /// version-1 object form `{id, origin_id, origin_slot, target_id, target_slot, type}`.
    static func parseLinks(_ list: [JSONValue]) throws -> [Int: UILink] {
        var links: [Int: UILink] = [:]
        for entry in list {
            if let fields = entry.arrayValue, fields.count >= 5, let id = fields[0].intValue,
                let origin = identifier(fields[1]), let slot = fields[2].intValue
            {
                links[id] = UILink(
                    origin: origin, slot: slot, type: fields.count > 5 ? fields[5].stringValue ?? "*" : "*")
            } else if let id = entry["id"]?.intValue, let origin = identifier(entry["origin_id"]),
                let slot = entry["origin_slot"]?.intValue
            {
                links[id] = UILink(origin: origin, slot: slot, type: entry["type"]?.stringValue ?? "*")
            } else if entry != .null {
                throw WorkflowFormatError("malformed link entry: \(entry.serialized().prefix(120))")
            }
        }
        return links
    }
}
