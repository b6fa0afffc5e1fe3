import LatentflowGraph
import LatentflowTensor

extension Conditioning {
    /// Each entry changed by `update` (ComfyUI's `node_helpers.conditioning_set_values`).
    func updatingEntries(_ update: (inout Entry) throws -> Void) rethrows -> Conditioning {
        Conditioning(
            try entries.map { entry in
                var copy = entry
                try update(&copy)
                return copy
            })
    }

    /// The first entry of a `conditioning_from` input; ComfyUI warns when there are more.
    func firstEntry(of node: String, context: ExecutionContext) throws -> Entry {
        guard let first = entries.first else { throw NodeError("\(node): conditioning_from is empty") }
        if entries.count > 1 {
            context.warn(
                "\(node) conditioning_from contains more than 1 cond, only the first one will actually be applied to conditioning_to."
            )
        }
        return first
    }
}

/// Appends conditioning_from's tokens to each of conditioning_to's entries.
public struct ConditioningConcat: Node {
    static let to = Input<Conditioning>("conditioning_to")
    static let from = Input<Conditioning>("conditioning_from")

    public static let schema = NodeSchema(
        "ConditioningConcat", displayName: "Conditioning (Concat)", category: "conditioning",
        inputs: [to, from], outputs: outputs(Output<Conditioning>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let from = try inputs[Self.from].firstEntry(of: "ConditioningConcat", context: context).embedding
        return NodeOutputs(
            try inputs[Self.to].updatingEntries { entry in
                entry.embedding = try Tensor.concat([entry.embedding, from], axis: 1)
            })
    }
}

/// conditioning_to · s + conditioning_from · (1 − s), token by token.
public struct ConditioningAverage: Node {
    static let to = Input<Conditioning>("conditioning_to")
    static let from = Input<Conditioning>("conditioning_from")
    static let strength = Input.float("conditioning_to_strength", default: 1.0, min: 0.0, max: 1.0, step: 0.01)

    public static let schema = NodeSchema(
        "ConditioningAverage", displayName: "Conditioning (Average)", category: "conditioning",
        inputs: [to, from, strength], outputs: outputs(Output<Conditioning>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let from = try inputs[Self.from].firstEntry(of: "ConditioningAverage", context: context).embedding
        let strength = try inputs[Self.strength]
        return NodeOutputs(
            try inputs[Self.to].updatingEntries { entry in
                entry.embedding = try entry.embedding.weightedAverage(
                    withTokensOf: from, weight: strength)
            })
    }
}

/// Zeros every entry's embedding (pooled outputs, which Latentflow's SD1/SD2 entries do not carry, too).
public struct ConditioningZeroOut: Node {
    static let conditioning = Input<Conditioning>("conditioning")

    public static let schema = NodeSchema(
        "ConditioningZeroOut", displayName: "ConditioningZeroOut", category: "advanced/conditioning",
        inputs: [conditioning], outputs: outputs(Output<Conditioning>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(
            try inputs[Self.conditioning].updatingEntries { entry in
                entry.embedding = Tensor(shape: entry.embedding.shape)
            })
    }
}

/// Limits conditioning to a part of sampling, as fractions of the schedule from its start.
public struct ConditioningSetTimestepRange: Node {
    static let conditioning = Input<Conditioning>("conditioning")
    static let start = Input.float("start", default: 0.0, min: 0.0, max: 1.0, step: 0.001)
    static let end = Input.float("end", default: 1.0, min: 0.0, max: 1.0, step: 0.001)

    public static let schema = NodeSchema(
        "ConditioningSetTimestepRange", displayName: "ConditioningSetTimestepRange",
        category: "advanced/conditioning", inputs: [conditioning, start, end], outputs: outputs(Output<Conditioning>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let (start, end) = (try inputs[Self.start], try inputs[Self.end])
        return NodeOutputs(
            try inputs[Self.conditioning].updatingEntries { entry in
                entry.startPercent = start
                entry.endPercent = end
            })
    }
}

/// Sets every entry's strength, keeping its area.
public struct ConditioningSetAreaStrength: Node {
    static let conditioning = Input<Conditioning>("conditioning")
    static let strength = Input.float("strength", default: 1.0, min: 0.0, max: 10.0, step: 0.01)

    public static let schema = NodeSchema(
        "ConditioningSetAreaStrength", displayName: "ConditioningSetAreaStrength", category: "conditioning",
        inputs: [conditioning, strength], outputs: outputs(Output<Conditioning>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let strength = try inputs[Self.strength]
        return NodeOutputs(try inputs[Self.conditioning].updatingEntries { $0.strength = strength })
    }
}
