import LatentflowGraph
import LatentflowNodes

/// Nodes in ComfyUI's `node_info` shape (`server.py`): what `GET /object_info` serves and what the
/// coverage check compares with ComfyUI's own. File combos list the folders' files as they are now.
public struct ObjectInfo {
    public let engine: Engine

    public init(engine: Engine) { self.engine = engine }

    /// Every registered node's entry, as `GET /object_info` returns them.
    public func all() -> JSONValue {
        .object(
            engine.registry.classTypes.compactMap { type in engine.registry.schema(type).map { (type, entry(for: $0)) }
            })
    }

    public func entry(for schema: NodeSchema) -> JSONValue {
        let required = schema.inputs.filter { !$0.isOptional }, optional = schema.inputs.filter(\.isOptional)
        var input: [(key: String, value: JSONValue)] = [
            ("required", .object(required.map { ($0.name, inputJSON($0)) }))
        ]
        var order: [(key: String, value: JSONValue)] = [("required", .array(required.map { .string($0.name) }))]
        if !optional.isEmpty {
            input.append(("optional", .object(optional.map { ($0.name, inputJSON($0)) })))
            order.append(("optional", .array(optional.map { .string($0.name) })))
        }
        var entry: [(key: String, value: JSONValue)] = [
            ("input", .object(input)),
            ("input_order", .object(order)),
            ("output", .array(schema.outputs.map { .string($0.type.name) })),
            ("output_is_list", .array(schema.outputs.map { .bool($0.isList) })),
            ("output_name", .array(schema.outputs.map { .string($0.name) })),
            ("name", .string(schema.classType)),
            ("display_name", .string(schema.displayName)),
            ("description", .string(schema.description)),
            ("python_module", .string(pythonModule(of: schema.classType))),
            ("category", .string(schema.category)),
            ("output_node", .bool(schema.isOutputNode)),
        ]
        if schema.outputs.contains(where: { $0.tooltip != nil }) {
            entry.append(("output_tooltips", .array(schema.outputs.map { .string($0.tooltip ?? "") })))
        }
        return .object(entry)
    }

    /// `[type]` or `[type, options]`; a combo's type is its list of choices.
    public func inputJSON(_ spec: InputSpec) -> JSONValue {
        var options: [(key: String, value: JSONValue)] = []
        if let value = spec.defaultValue { options.append(("default", value)) }
        if let min = spec.min { options.append(("min", number(min, for: spec))) }
        if let max = spec.max { options.append(("max", number(max, for: spec))) }
        if let step = spec.step { options.append(("step", number(step, for: spec))) }
        if spec.multiline { options.append(("multiline", .bool(true))) }
        if spec.forceInput { options.append(("forceInput", .bool(true))) }
        if spec.isLazy { options.append(("lazy", .bool(true))) }
        if spec.controlAfterGenerate { options.append(("control_after_generate", .bool(true))) }
        if spec.imageUpload { options.append(("image_upload", .bool(true))) }
        if let folder = spec.imageFolder { options.append(("image_folder", .string(folder))) }
        if let tooltip = spec.tooltip { options.append(("tooltip", .string(tooltip))) }

        let type: JSONValue
        if let choices = spec.options?.choices(in: engine.paths) {
            type = .array(choices.map(JSONValue.string))
        } else {
            type = .string(spec.type.name)
        }
        return .array(options.isEmpty ? [type] : [type, .object(options)])
    }

    /// Integers print as integers for INT inputs (ComfyUI's UI reads `step: 1`, not `1.0`).
    private func number(_ value: Double, for spec: InputSpec) -> JSONValue {
        // A seed's maximum, 2^64 − 1, is stored as the Double 2^64 (the nearest); print ComfyUI's.
        if spec.takesUnsigned64, value >= Double(UInt64.max) { return .uint(.max) }
        return spec.type == .int && value.rounded() == value && abs(value) < 9e18 ? .int(Int64(value)) : .double(value)
    }

    /// Built-in nodes are ComfyUI's `nodes`; other packs appear as custom nodes.
    private func pythonModule(of classType: String) -> String {
        guard let pack = engine.registry.pack(of: classType), pack != BuiltinNodes.name else { return "nodes" }
        return "custom_nodes.\(pack)"
    }
}
