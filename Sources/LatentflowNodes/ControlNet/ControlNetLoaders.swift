import LatentflowGraph
import LatentflowModels

/// Loads a ControlNet or T2I-Adapter from `models/controlnet` (or `models/t2i_adapter`).
///
/// Matches: ComfyUI `nodes.py` `ControlNetLoader` over `comfy/controlnet.py` `load_controlnet`.
public struct ControlNetLoader: Node {
    static let name = Input.files("control_net_name", folder: "controlnet")

    public static let schema = NodeSchema(
        "ControlNetLoader", displayName: "Load ControlNet Model", category: "loaders",
        inputs: [name], outputs: outputs(Output<ControlNetValue>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(try loadControlNet(try inputs[Self.name], differenceBase: nil, context: context))
    }

    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        fileFingerprint(constants[name], folder: "controlnet", environment: environment)
    }
}

/// Loads a "diff" ControlNet, whose weights are differences from the given model's UNet.
///
/// Matches: ComfyUI `nodes.py` `DiffControlNetLoader` (`load_controlnet(path, model)`).
public struct DiffControlNetLoader: Node {
    static let model = Input<DiffusionModel>("model")
    static let name = Input.files("control_net_name", folder: "controlnet")

    public static let schema = NodeSchema(
        "DiffControlNetLoader", displayName: "Load ControlNet Model (diff)", category: "loaders",
        inputs: [model, name], outputs: outputs(Output<ControlNetValue>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let model = try inputs[Self.model]
        return NodeOutputs(try loadControlNet(try inputs[Self.name], differenceBase: model.weights, context: context))
    }

    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        fileFingerprint(constants[name], folder: "controlnet", environment: environment)
    }
}

private func loadControlNet(_ name: String, differenceBase: [String: Parameter]?, context: ExecutionContext) throws
    -> ControlNetValue
{
    let url = try context.environment.files.locate(name, in: "controlnet")
    do {
        return ControlNetValue(try ControlModelFile.load(path: url.path, differenceBase: differenceBase))
    } catch let error as ModelLoadError {
        throw NodeError(error.description)
    }
}
