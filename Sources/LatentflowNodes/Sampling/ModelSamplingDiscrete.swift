import LatentflowGraph
import LatentflowSampling

/// Replaces the model's sampling parameterization (eps, v_prediction, lcm, x0, img_to_img).
///
/// Matches: ComfyUI `comfy_extras/nodes_model_advanced.py` `ModelSamplingDiscrete`.
public struct ModelSamplingDiscrete: Node {
    static let model = Input<DiffusionModel>("model")
    static let sampling = Input.combo("sampling", options: ["eps", "v_prediction", "lcm", "x0", "img_to_img"])
    static let zsnr = Input.boolean("zsnr", default: false)

    public static let schema = NodeSchema(
        "ModelSamplingDiscrete", category: "advanced/model",
        description: "Sets how the model's outputs are read (eps, v_prediction, lcm, x0, img_to_img) "
            + "and optionally rescales to zero terminal SNR.",
        inputs: [model, sampling, zsnr], outputs: outputs(Output<DiffusionModel>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var model = try inputs[Self.model]
        let name = try inputs[Self.sampling]
        guard let parameterization = Parameterization(rawValue: name) else {
            throw NodeError("unknown sampling '\(name)'")
        }
        model.sampling = ModelSampling(parameterization: parameterization, zeroTerminalSNR: try inputs[Self.zsnr])
        return NodeOutputs(model)
    }
}
