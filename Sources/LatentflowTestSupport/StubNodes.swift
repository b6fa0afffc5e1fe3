import Foundation
import LatentflowGraph
import LatentflowTensor

/// Test nodes re-creating ComfyUI's execution testing pack
/// (`tests/execution/testing_nodes/testing-pack`), so the executor can be checked against the
/// scenarios of ComfyUI's own execution tests without any model.
public enum StubNodes: NodePack {
    public static let name = "stubs"
    public static let nodes: [any Node.Type] = [
        StubImage.self, StubConstantImage.self, StubMask.self, StubInt.self, StubFloat.self, TestLazyMixImages.self,
        TestVariadicAverage.self, TestCustomIsChanged.self, TestIsChangedWithConstants.self, TestCustomValidation.self,
        TestMakeListNode.self, TestFailingNode.self, StubOutput.self, StubListOutput.self, StubSeededImage.self,
        StubInvertImage.self, StubSeed.self,
    ]
}

func constantImage(_ value: Float, height: Int, width: Int, batch: Int) -> ImageBatch {
    ImageBatch(Tensor(shape: [batch, height, width, 3], repeating: value))
}

/// An image batch, black, white or noise.
public struct StubImage: Node {
    static let content = Input.combo("content", options: ["WHITE", "BLACK", "NOISE"])
    static let height = Input.int("height", default: 512, min: 1, max: 1024)
    static let width = Input.int("width", default: 512, min: 1, max: 1024)
    static let batchSize = Input.int("batch_size", default: 1, min: 1, max: 64)
    public static let schema = NodeSchema(
        "StubImage", category: "Testing/Stub Nodes",
        inputs: [content, height, width, batchSize], outputs: outputs(Output<ImageBatch>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let (h, w, n) = (try inputs[Self.height], try inputs[Self.width], try inputs[Self.batchSize])
        switch try inputs[Self.content] {
        case "WHITE": return NodeOutputs(constantImage(1, height: h, width: w, batch: n))
        case "BLACK": return NodeOutputs(constantImage(0, height: h, width: w, batch: n))
        default:
            var state: UInt32 = 12345
            return NodeOutputs(
                ImageBatch(
                    Tensor(shape: [n, h, w, 3]) { out in
                        for i in 0..<out.count {
                            state = state &* 1_664_525 &+ 1_013_904_223
                            out[i] = Float(state >> 8) / Float(1 << 24)
                        }
                    }))
        }
    }
}

public struct StubConstantImage: Node {
    static let value = Input.float("value", default: 0.5, min: 0, max: 1, step: 0.01)
    static let height = Input.int("height", default: 512, min: 1, max: 1024)
    static let width = Input.int("width", default: 512, min: 1, max: 1024)
    static let batchSize = Input.int("batch_size", default: 1, min: 1, max: 64)
    public static let schema = NodeSchema(
        "StubConstantImage", category: "Testing/Stub Nodes",
        inputs: [value, height, width, batchSize], outputs: outputs(Output<ImageBatch>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(
            constantImage(
                Float(try inputs[Self.value]), height: try inputs[Self.height],
                width: try inputs[Self.width], batch: try inputs[Self.batchSize]))
    }
}

public struct StubMask: Node {
    static let value = Input.float("value", default: 0.5, min: 0, max: 1, step: 0.01)
    static let height = Input.int("height", default: 512, min: 1, max: 1024)
    static let width = Input.int("width", default: 512, min: 1, max: 1024)
    static let batchSize = Input.int("batch_size", default: 1, min: 1, max: 64)
    public static let schema = NodeSchema(
        "StubMask", category: "Testing/Stub Nodes",
        inputs: [value, height, width, batchSize], outputs: outputs(Output<Mask>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(
            Mask(
                Tensor(
                    shape: [try inputs[Self.batchSize], try inputs[Self.height], try inputs[Self.width]],
                    repeating: Float(try inputs[Self.value]))))
    }
}

public struct StubInt: Node {
    static let value = Input.int("value", default: 0, min: -0xFFFF_FFFF, max: 0xFFFF_FFFF)
    public static let schema = NodeSchema(
        "StubInt", category: "Testing/Stub Nodes", inputs: [value], outputs: outputs(Output<Int>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(try inputs[Self.value])
    }
}

public struct StubFloat: Node {
    static let value = Input.float("value", default: 0, min: -1e6, max: 1e6, step: 0.01)
    public static let schema = NodeSchema(
        "StubFloat", category: "Testing/Stub Nodes", inputs: [value], outputs: outputs(Output<Double>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(try inputs[Self.value])
    }
}

/// image1·(1−mask) + image2·mask, evaluating only the images the mask needs.
public struct TestLazyMixImages: Node {
    static let image1 = Input<ImageBatch>("image1", lazy: true)
    static let image2 = Input<ImageBatch>("image2", lazy: true)
    static let mask = Input<Mask>("mask")
    public static let schema = NodeSchema(
        "TestLazyMixImages", category: "Testing/Nodes",
        inputs: [image1, image2, mask], outputs: outputs(Output<ImageBatch>()))
    public init() {}

    public func lazyInputsNeeded(_ inputs: NodeInputs) -> [String] {
        guard let mask = try? inputs[Self.mask].values.scalars else { return [] }
        var needed: [String] = []
        if (mask.min() ?? 0) < 1 && !inputs.contains(Self.image1.name) { needed.append(Self.image1.name) }
        if (mask.max() ?? 0) > 0 && !inputs.contains(Self.image2.name) { needed.append(Self.image2.name) }
        return needed
    }

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let mask = try inputs[Self.mask].values
        let weight = mask.scalars.first ?? 0
        if weight >= 1 { return NodeOutputs(try inputs[Self.image2]) }
        if weight <= 0 { return NodeOutputs(try inputs[Self.image1]) }
        let a = try inputs[Self.image1].pixels, b = try inputs[Self.image2].pixels
        guard a.shape == b.shape else { throw NodeError("image sizes differ: \(a.shape) and \(b.shape)") }
        return NodeOutputs(ImageBatch(try a.scaled(by: 1 - weight).adding(b.scaled(by: weight))))
    }
}

/// The average of any number of undeclared image inputs (input1, input2, ...).
public struct TestVariadicAverage: Node {
    static let input1 = Input<ImageBatch>("input1")
    public static let schema = NodeSchema(
        "TestVariadicAverage", category: "Testing/Nodes", inputs: [input1], outputs: outputs(Output<ImageBatch>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let images = inputs.names.sorted().compactMap { inputs.raw($0) as? ImageBatch }
        var sum = images[0].pixels
        for image in images.dropFirst() { sum = try sum.adding(image.pixels) }
        return NodeOutputs(ImageBatch(sum.scaled(by: 1 / Float(images.count))))
    }
}

/// Passes its image through; re-runs every time when `should_change` is true (ComfyUI's NaN).
public struct TestCustomIsChanged: Node {
    static let image = Input<ImageBatch>("image")
    static let shouldChange = Input.boolean("should_change", default: false)
    public static let schema = NodeSchema(
        "TestCustomIsChanged", category: "Testing/Nodes", inputs: [image, shouldChange],
        outputs: outputs(Output<ImageBatch>()))
    public init() {}
    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        constants[shouldChange] == true ? .alwaysChanged : .unchanged
    }
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(try inputs[Self.image])
    }
}

/// image · value; its fingerprint sees only the constant `value` (the linked image is absent).
public struct TestIsChangedWithConstants: Node {
    static let image = Input<ImageBatch>("image")
    static let value = Input.float("value", default: 0.5, min: 0, max: 1)
    nonisolated(unsafe) public static var seenConstants: [String] = []
    public static let schema = NodeSchema(
        "TestIsChangedWithConstants", category: "Testing/Nodes", inputs: [image, value],
        outputs: outputs(Output<ImageBatch>()))
    public init() {}
    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        seenConstants = constants.values.keys.sorted()
        return .value(String(constants[value] ?? -1))
    }
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(ImageBatch(try inputs[Self.image].pixels.scaled(by: Float(try inputs[Self.value]))))
    }
}

/// An input of the union type "IMAGE,FLOAT" whose constants are checked by custom validation
/// (which also lifts the min/max checks): a float in 0...5 is accepted, anything else refused.
public struct TestCustomValidation: Node {
    static let input1 = Input<ImageBatch>("input1", type: "IMAGE,FLOAT")
    static let input2 = Input<ImageBatch>("input2", type: "IMAGE,FLOAT")
    public static let schema = NodeSchema(
        "TestCustomValidation", category: "Testing/Nodes", inputs: [input1, input2],
        outputs: outputs(Output<ImageBatch>()))
    public static var customValidatedInputs: Set<String> { ["input1", "input2"] }
    public init() {}
    public static func validate(_ constants: NodeConstants, environment: ExecutionEnvironment) -> String? {
        for name in ["input1", "input2"] {
            guard let value = constants[name] else { continue }
            guard let number = value as? Double else {
                return "\(name) must be a FLOAT or an IMAGE, got \(type(of: value))"
            }
            if number > 5 { return "\(name) must be at most 5, got \(number)" }
        }
        return nil
    }
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        func image(_ name: String) -> ImageBatch {
            if let image = inputs.raw(name) as? ImageBatch { return image }
            return constantImage(Float(inputs.raw(name) as? Double ?? 0) / 5, height: 8, width: 8, batch: 1)
        }
        let a = image("input1").pixels, b = image("input2").pixels
        return NodeOutputs(ImageBatch(try a.adding(b).scaled(by: 0.5)))
    }
}

/// Outputs its float inputs as one list (ComfyUI's OUTPUT_IS_LIST).
public struct TestMakeListNode: Node {
    static let value1 = Input.float("value1", default: 0, min: -1e6, max: 1e6)
    static let value2 = Input.float("value2", default: 0, min: -1e6, max: 1e6).optional
    static let value3 = Input.float("value3", default: 0, min: -1e6, max: 1e6).optional
    public static let schema = NodeSchema(
        "TestMakeListNode", category: "Testing/Nodes", inputs: [value1, value2, value3],
        outputs: outputs(Output<Double>("list", isList: true)))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let values: [any Sendable] = [
            try inputs[Self.value1], try inputs.optional(Self.value2), try inputs.optional(Self.value3),
        ].compactMap { $0 }
        return NodeOutputs(values)
    }
}

/// Always fails, naming itself.
public struct TestFailingNode: Node {
    static let image = Input<ImageBatch>("image")
    public static let schema = NodeSchema(
        "TestFailingNode", category: "Testing/Nodes", inputs: [image], outputs: outputs(Output<ImageBatch>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        throw NodeError("deliberate failure")
    }
}

/// `1 − x` per pixel, as ComfyUI's ImageInvert: a one-input image transform for graph tests.
public struct StubInvertImage: Node {
    static let image = Input<ImageBatch>("image")
    public static let schema = NodeSchema(
        "StubInvertImage", category: "Testing/Stub Nodes", inputs: [image],
        outputs: outputs(Output<ImageBatch>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(ImageBatch(try inputs[Self.image].pixels.scaled(by: -1, adding: 1)))
    }
}

/// An output node that reports the mean of each image it receives (no files).
public struct StubOutput: Node {
    static let images = Input<ImageBatch>("images")
    public static let schema = NodeSchema("StubOutput", category: "Testing/Nodes", inputs: [images], isOutputNode: true)
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let batch = try inputs[Self.images]
        let plane = batch.height * batch.width * batch.channels
        let means = (0..<batch.count).map { i in
            batch.pixels.scalars[(i * plane)..<((i + 1) * plane)].reduce(0, +) / Float(plane)
        }
        return NodeOutputs(values: [], ui: .object([("images", .array(means.map { .double(Double($0)) }))]))
    }
}

/// An output node with a seed input: reports the seed as the unsigned 64-bit value the node read.
public struct StubSeed: Node {
    static let seed = Input.seed("seed")
    public static let schema = NodeSchema("StubSeed", category: "Testing/Nodes", inputs: [seed], isOutputNode: true)
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let bits = UInt64(bitPattern: Int64(try inputs[Self.seed]))
        return NodeOutputs(values: [], ui: .object([("seed", .string(String(bits)))]))
    }
}

/// An output node for FLOAT lists: reports each value it is called with.
public struct StubListOutput: Node {
    static let value = Input<Double>("value", type: .float)
    public static let schema = NodeSchema(
        "StubListOutput", category: "Testing/Nodes", inputs: [value], isOutputNode: true)
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(values: [], ui: .object([("images", .array([.double(try inputs[Self.value] * 2)]))]))
    }
}

/// A constant image with a seed widget (which carries the UI's hidden control-after-generate value).
public struct StubSeededImage: Node {
    static let seed = Input.int("seed", default: 0, min: 0, max: Int.max, controlAfterGenerate: true)
    static let value = Input.float("value", default: 0.5, min: 0, max: 1, step: 0.01)
    public static let schema = NodeSchema(
        "StubSeededImage", category: "Testing/Stub Nodes", inputs: [seed, value], outputs: outputs(Output<ImageBatch>())
    )
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(constantImage(Float(try inputs[Self.value]), height: 8, width: 8, batch: 1))
    }
}
