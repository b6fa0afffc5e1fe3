import Foundation

extension Workflow {
    /// The API form as ComfyUI's validation leaves it. `validate_inputs` writes `int(v)`, `float(v)`,
    /// `str(v)` and `bool(v)` back into the prompt it then runs and embeds, so an image made from a
    /// UI-format file, which stores a whole FLOAT as `8`, carries `"cfg": 8.0` in its `prompt` chunk.
    /// `constants` are the validator's converted values by node id and input name.
    func apiJSON(asValidated constants: [String: [String: any Sendable]], registry: NodeRegistry) -> JSONValue {
        var validated = self
        for index in validated.nodes.indices {
            let node = validated.nodes[index]
            guard let values = constants[node.id], let schema = registry.node(node.classType)?.schema else { continue }
            validated.nodes[index].inputs = node.inputs.map { input in
                guard case .constant(let original) = input.value, let value = values[input.name],
                    let spec = schema.inputs.first(where: { $0.name == input.name }),
                    let json = Self.validatedJSON(value, original: original, type: spec.type)
                else { return input }
                return (input.name, .constant(json))
            }
        }
        return validated.apiJSON
    }

    private static func validatedJSON(_ value: any Sendable, original: JSONValue, type: PortType) -> JSONValue? {
        switch type {
        // A seed past Int64.max reaches the node as its bits; the prompt keeps the number itself.
        case .int:
            return SixtyFourBitRange.unsigned(original).map(JSONValue.uint) ?? (value as? Int).map { .int(Int64($0)) }
        case .float: return (value as? Double).map(JSONValue.double)
        case .string: return (value as? String).map(JSONValue.string)
        case .boolean: return (value as? Bool).map(JSONValue.bool)
        default: return nil
        }
    }
}

extension Workflow {
    /// `submitted`, the API JSON this workflow was read from, with the validated constants written
    /// over its inputs and every other key as sent. ComfyUI's `validate_inputs` changes the very
    /// prompt dict that `POST /prompt` then queues, so `/queue` and `/history` echo `8.0`, not `8`.
    public func submittedJSON(_ submitted: JSONValue, asValidated report: ValidationReport, registry: NodeRegistry)
        -> JSONValue
    {
        let validated = apiJSON(asValidated: report.constants, registry: registry)
        var result = submitted
        for node in nodes {
            guard let original = submitted[node.id], let inputs = original["inputs"], inputs.objectPairs != nil,
                let converted = validated[node.id]?["inputs"]
            else { continue }
            var patched = inputs
            for input in node.inputs {
                // Links stay as sent (`[1, 0]` keeps its integer id).
                guard case .constant = input.value, inputs[input.name] != nil, let value = converted[input.name]
                else { continue }
                patched = patched.setting(input.name, value)
            }
            result = result.setting(node.id, original.setting("inputs", patched))
        }
        return result
    }
}
