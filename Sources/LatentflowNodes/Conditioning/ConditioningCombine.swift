import LatentflowGraph

/// Both conditionings, as one list (each is evaluated and their predictions averaged).
public struct ConditioningCombine: Node {
    static let first = Input<Conditioning>("conditioning_1")
    static let second = Input<Conditioning>("conditioning_2")

    public static let schema = NodeSchema(
        "ConditioningCombine", displayName: "Conditioning (Combine)", category: "conditioning",
        inputs: [first, second], outputs: outputs(Output<Conditioning>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(Conditioning(try inputs[Self.first].entries + inputs[Self.second].entries))
    }
}
