import LatentflowGraph
import LatentflowSampling

/// The continuous-time schedules of ComfyUI `comfy_extras/nodes_model_advanced.py`: 1000 sigmas
/// log-spaced between sigma_min and sigma_max, the UNet timestep ¼·log σ (EDM) or atan(σ)·2/π (V).
/// The node's sigmas must be positive: a log of 0 has no table.
private func continuousSampling(
    _ node: String, _ continuous: ContinuousTimesteps, _ parameterization: Parameterization, sigmaData: Double,
    sigmaMax: Double, sigmaMin: Double
) throws -> ModelSampling {
    guard sigmaMin > 0, sigmaMax > 0 else {
        throw NodeError("\(node): sigma_max and sigma_min must be above 0 (the table is log-spaced)")
    }
    return ModelSampling(
        continuous: continuous, parameterization: parameterization, sigmaMin: sigmaMin, sigmaMax: sigmaMax,
        sigmaData: sigmaData)
}

/// Replaces the model's sampling with EDM's continuous schedule and a parameterization: v_prediction
/// and eps with σ_data 1, edm with σ_data 0.5. `edm_playground_v2.5` (which also switches to the SDXL
/// Playground latent format) and `cosmos_rflow` belong to model families Latentflow does not run.
///
/// Matches: ComfyUI `comfy_extras/nodes_model_advanced.py` `ModelSamplingContinuousEDM`.
public struct ModelSamplingContinuousEDM: Node {
    static let model = Input<DiffusionModel>("model")
    static let sampling = Input.combo(
        "sampling", options: ["v_prediction", "edm", "edm_playground_v2.5", "eps", "cosmos_rflow"])
    static let sigmaMax = Input.float("sigma_max", default: 120, min: 0, max: 1000, step: 0.001)
    static let sigmaMin = Input.float("sigma_min", default: 0.002, min: 0, max: 1000, step: 0.001)
    public static let schema = NodeSchema(
        "ModelSamplingContinuousEDM", category: "advanced/model", inputs: [model, sampling, sigmaMax, sigmaMin],
        outputs: outputs(Output<DiffusionModel>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let name = try inputs[Self.sampling]
        let (parameterization, sigmaData): (Parameterization, Double)
        switch name {
        case "v_prediction": (parameterization, sigmaData) = (.vPrediction, 1)
        case "eps": (parameterization, sigmaData) = (.eps, 1)
        case "edm": (parameterization, sigmaData) = (.edm, 0.5)
        default:
            throw NodeError(
                "ModelSamplingContinuousEDM: sampling '\(name)' needs a model family Latentflow does not run (SD1.x/SD2.x take v_prediction, edm or eps)"
            )
        }
        var model = try inputs[Self.model]
        model.sampling = try continuousSampling(
            "ModelSamplingContinuousEDM", .edm, parameterization, sigmaData: sigmaData,
            sigmaMax: try inputs[Self.sigmaMax], sigmaMin: try inputs[Self.sigmaMin])
        return NodeOutputs(model)
    }
}

/// Replaces the model's sampling with the continuous V schedule (timestep atan(σ)·2/π), v-prediction.
///
/// Matches: ComfyUI `comfy_extras/nodes_model_advanced.py` `ModelSamplingContinuousV`.
public struct ModelSamplingContinuousV: Node {
    static let model = Input<DiffusionModel>("model")
    static let sampling = Input.combo("sampling", options: ["v_prediction"])
    static let sigmaMax = Input.float("sigma_max", default: 500, min: 0, max: 1000, step: 0.001)
    static let sigmaMin = Input.float("sigma_min", default: 0.03, min: 0, max: 1000, step: 0.001)
    public static let schema = NodeSchema(
        "ModelSamplingContinuousV", category: "advanced/model", inputs: [model, sampling, sigmaMax, sigmaMin],
        outputs: outputs(Output<DiffusionModel>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var model = try inputs[Self.model]
        model.sampling = try continuousSampling(
            "ModelSamplingContinuousV", .v, .vPrediction, sigmaData: 1, sigmaMax: try inputs[Self.sigmaMax],
            sigmaMin: try inputs[Self.sigmaMin])
        return NodeOutputs(model)
    }
}
