import LatentflowGraph
import LatentflowSampling

/// Differential Diffusion: a soft noise mask becomes, step by step, the binary mask of where it
/// reaches the schedule's progress, so greyer regions start changing later.
///
/// Matches: ComfyUI `comfy_extras/nodes_differential_diffusion.py` `DifferentialDiffusion` (a
/// `denoise_mask_function`).
public struct DifferentialDiffusion: Node {
    static let model = Input<DiffusionModel>("model")
    static let strength = Input.float("strength", default: 1.0, min: 0, max: 1, step: 0.01).optional

    public static let schema = NodeSchema(
        "DifferentialDiffusion", displayName: "Differential Diffusion", category: "_for_testing",
        inputs: [model, strength], outputs: outputs(Output<DiffusionModel>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var model = try inputs[Self.model]
        let strength = try inputs.optional(Self.strength) ?? 1.0
        model.denoiseMaskFunction = { sigma, mask, sigmas, sampling in
            try DifferentialDiffusionMask.mask(
                mask, sigma: sigma, sigmas: sigmas, sampling: sampling, strength: strength)
        }
        return NodeOutputs(model)
    }
}
