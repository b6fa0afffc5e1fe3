import LatentflowGraph
import LatentflowModels

/// Applies an A1111 hypernetwork from `models/hypernetworks` to the model's self- and
/// cross-attention keys and values.
///
/// Matches: ComfyUI `comfy_extras/nodes_hypernetwork.py` `HypernetworkLoader` (an unsupported
/// activation is an error here; ComfyUI logs it and returns the model unpatched).
public struct HypernetworkLoader: Node {
    static let model = Input<DiffusionModel>("model")
    static let name = Input.files("hypernetwork_name", folder: "hypernetworks")
    static let strength = Input.float("strength", default: 1.0, min: -10.0, max: 10.0, step: 0.01)

    public static let schema = NodeSchema(
        "HypernetworkLoader", category: "loaders",
        description: "Adds an A1111 hypernetwork's key and value corrections to every attention layer of its widths.",
        inputs: [model, name, strength], outputs: outputs(Output<DiffusionModel>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var model = try inputs[Self.model]
        let fileName = try inputs[Self.name]
        let url = try context.environment.files.locate(fileName, in: "hypernetworks")
        let network: Hypernetwork
        do {
            network = try Hypernetwork(path: url.path, strength: Float(try inputs[Self.strength]))
        } catch {
            throw NodeError("hypernetwork_name '\(fileName)': \(error)")
        }
        model.patches.attn1.append(network.attentionPatch)
        model.patches.attn2.append(network.attentionPatch)
        return NodeOutputs(model)
    }

    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        fileFingerprint(constants[name], folder: "hypernetworks", environment: environment)
    }
}
