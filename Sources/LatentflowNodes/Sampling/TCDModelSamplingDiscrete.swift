import LatentflowGraph
import LatentflowSampling

/// TCD: reads the model as eps over ModelSamplingDiscreteDistilled's 50 timesteps and hands out
/// the TCD sampler (γ = `eta`) with the sigmas it was made for.
///
/// Matches: the ComfyUI-TCD node pack (JettHu/ComfyUI-TCD `__init__.py`
/// `TCDModelSamplingDiscrete.patch`): its `ModelSamplingDiscreteDistilledTCD` is
/// ModelSamplingDiscreteDistilled with EPS (whatever the model was), the schedule is
/// `calculate_sigmas` with `int(steps / denoise)` steps of which the last `steps + 1` are kept.
public struct TCDModelSamplingDiscrete: Node {
    static let model = Input<DiffusionModel>("model")
    static let steps = Input.int("steps", default: 4, min: 1, max: 50)
    static let scheduler = Input.combo("scheduler", options: ["simple", "sgm_uniform"])
    static let denoise = Input.float("denoise", default: 1.0, min: 0, max: 1, step: 0.01)
    static let eta = Input.float("eta", default: 0.3, min: 0, max: 1, step: 0.01)

    public static let schema = NodeSchema(
        "TCDModelSamplingDiscrete", displayName: "TCD Model Sampling Discrete", category: "advanced/model",
        description: "Trajectory Consistency Distillation (ComfyUI-TCD node pack): the model read as eps over "
            + "the distilled 50-timestep schedule, the TCD sampler with gamma = eta, and its sigmas.",
        inputs: [model, steps, scheduler, denoise, eta],
        outputs: outputs(Output<DiffusionModel>(), Output<SamplerChoice>(), Output<Sigmas>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var model = try inputs[Self.model]
        let steps = try inputs[Self.steps], denoise = try inputs[Self.denoise], eta = try inputs[Self.eta]
        guard let scheduler = SchedulerName(rawValue: try inputs[Self.scheduler]) else {
            throw NodeError("unknown scheduler")
        }
        // ComfyUI-TCD fails on an empty schedule (it sets the last s-timestep of none).
        guard denoise > 0 else { throw NodeError("denoise is 0: TCD has no sigmas to sample (use a denoise above 0)") }
        model.sampling = ModelSampling(parameterization: .eps, distilled: true)
        let total = try SamplingPlan.scheduledSteps(steps: steps, denoise: denoise)
        let sigmas = Array(try Schedulers.sigmas(scheduler, model.sampling, steps: total).suffix(steps + 1))
        // The menu name is a placeholder: SamplerCustom runs `custom` in its place.
        let sampler = SamplerChoice(name: .lcm, custom: TCD(eta: eta, sigmas: sigmas, sampling: model.sampling))
        return NodeOutputs(model, sampler, Sigmas(values: sigmas))
    }
}
