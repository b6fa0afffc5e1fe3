import LatentflowGraph

/// What CombineHooks2/4/8 share: `count` optional hook inputs, combined each hook once in input order.
enum HookCombining {
    static func slots(_ count: Int) -> [Input<Hooks>] {
        "ABCDEFGH".prefix(count).map { Input<Hooks>("hooks_\($0)", optional: true) }
    }

    static func schema(_ count: Int) -> NodeSchema {
        NodeSchema(
            "CombineHooks\(count)", displayName: "Combine Hooks [\(count)]", category: "advanced/hooks/combine",
            inputs: slots(count), outputs: outputs(Output<Hooks>()))
    }

    static func combine(_ inputs: NodeInputs, count: Int) throws -> NodeOutputs {
        NodeOutputs(Hooks.combineAll(try slots(count).map { try inputs.optional($0) }))
    }
}

public struct CombineHooks2: Node {
    public static let schema = HookCombining.schema(2)
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        try HookCombining.combine(inputs, count: 2)
    }
}

public struct CombineHooks4: Node {
    public static let schema = HookCombining.schema(4)
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        try HookCombining.combine(inputs, count: 4)
    }
}

public struct CombineHooks8: Node {
    public static let schema = HookCombining.schema(8)
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        try HookCombining.combine(inputs, count: 8)
    }
}
