import LatentflowGraph

// ComfyUI's `comfy_extras/nodes_primitive.py`: one widget value passed on as an output, so that a
// graph can feed one value to several inputs. Like ComfyUI's, the numbers have no default.

public struct PrimitiveString: Node {
    static let value = Input.string("value").withoutDefault

    public static let schema = NodeSchema(
        "PrimitiveString", displayName: "String", category: "utils/primitive",
        inputs: [value], outputs: outputs(Output<String>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(try inputs[Self.value])
    }
}

public struct PrimitiveStringMultiline: Node {
    static let value = Input.string("value", multiline: true).withoutDefault

    public static let schema = NodeSchema(
        "PrimitiveStringMultiline", displayName: "String (Multiline)", category: "utils/primitive",
        inputs: [value], outputs: outputs(Output<String>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(try inputs[Self.value])
    }
}

public struct PrimitiveInt: Node {
    // ±sys.maxsize, as ComfyUI declares it.
    static let value = Input.int("value", default: 0, min: -Int.max, max: Int.max, controlAfterGenerate: true)
        .withoutDefault

    public static let schema = NodeSchema(
        "PrimitiveInt", displayName: "Int", category: "utils/primitive",
        inputs: [value], outputs: outputs(Output<Int>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(try inputs[Self.value])
    }
}

public struct PrimitiveFloat: Node {
    static let value = Input.float("value", default: 0, min: -Double(Int.max), max: Double(Int.max), step: 0.1)
        .withoutDefault

    public static let schema = NodeSchema(
        "PrimitiveFloat", displayName: "Float", category: "utils/primitive",
        inputs: [value], outputs: outputs(Output<Double>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(try inputs[Self.value])
    }
}

public struct PrimitiveBoolean: Node {
    static let value = Input.boolean("value", default: false).withoutDefault

    public static let schema = NodeSchema(
        "PrimitiveBoolean", displayName: "Boolean", category: "utils/primitive",
        inputs: [value], outputs: outputs(Output<Bool>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(try inputs[Self.value])
    }
}
