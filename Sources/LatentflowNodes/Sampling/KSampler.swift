import Foundation
import LatentflowGraph
import LatentflowSampling
import LatentflowTensor

let samplerNames = SamplerName.allCases.map(\.rawValue)
let schedulerNames = SchedulerName.allCases.map(\.rawValue)

/// Refuses ComfyUI sampler names Latentflow does not implement yet, at validation (every
/// ComfyUI scheduler is implemented).
func samplingValidation(_ constants: NodeConstants) -> String? {
    if let name = constants["sampler_name"] as? String, let sampler = SamplerName(rawValue: name),
        !sampler.isImplemented
    {
        let available = SamplerName.implemented.map(\.rawValue).joined(separator: ", ")
        return
            "sampler_name '\(name)' is a ComfyUI sampler that Latentflow does not implement yet (available: \(available))"
    }
    return nil
}

/// ComfyUI's `common_ksampler`: noise from the seed (batch_index aware), the schedule, CFG.
func commonKSampler(
    model: DiffusionModel, seed: Int, steps: Int, cfg: Double, samplerName: String, scheduler: String,
    positive: Conditioning, negative: Conditioning, latent: Latent, denoise: Double,
    addNoise: Bool = true, startStep: Int? = nil, endStep: Int? = nil, forceFullDenoise: Bool = false,
    context: ExecutionContext
) throws -> Latent {
    guard let sampler = SamplerName(rawValue: samplerName), let schedule = SchedulerName(rawValue: scheduler) else {
        throw NodeError("unknown sampler '\(samplerName)' or scheduler '\(scheduler)'")
    }
    let sigmas = try SamplingPlan.sigmas(
        scheduler: schedule, sampling: model.sampling, steps: steps, denoise: denoise, sampler: sampler)
    guard
        let window = SamplingPlan.window(
            sigmas, startStep: startStep, endStep: endStep, forceFullDenoise: forceFullDenoise)
    else {
        return latent  // starting at or past the last step: the latent comes back unchanged
    }
    return try customSample(
        guider: Guider(model: model, positive: positive, negative: negative, cfg: cfg),
        sampler: SamplerChoice(name: sampler),
        sigmas: window, noise: NoiseSource(seed: seed, enabled: addNoise), latent: latent, context: context
    ).0
}

/// Denoises a latent with a sampler and scheduler, guided by a positive and a negative prompt.
public struct KSampler: Node {
    static let model = Input<DiffusionModel>("model", tooltip: "The model used for denoising the input latent.")
    static let seed = Input.seed("seed", tooltip: "The random seed used for creating the noise.")
    static let steps = Input.int(
        "steps", default: 20, min: 1, max: 10000, tooltip: "The number of steps used in the denoising process.")
    static let cfg = Input.float(
        "cfg", default: 8.0, min: 0, max: 100, step: 0.1,
        tooltip: "The Classifier-Free Guidance scale; 1.0 skips the negative prompt.")
    static let samplerName = Input.combo(
        "sampler_name", options: samplerNames, tooltip: "The algorithm used when sampling.")
    static let scheduler = Input.combo(
        "scheduler", options: schedulerNames, tooltip: "How noise is removed from step to step.")
    static let positive = Input<Conditioning>("positive")
    static let negative = Input<Conditioning>("negative")
    static let latentImage = Input<Latent>("latent_image")
    static let denoise = Input.float(
        "denoise", default: 1.0, min: 0, max: 1, step: 0.01, tooltip: "The amount of denoising applied.")

    public static let schema = NodeSchema(
        "KSampler", category: "sampling",
        description: "Uses the provided model, positive and negative conditioning to denoise the latent image.",
        inputs: [model, seed, steps, cfg, samplerName, scheduler, positive, negative, latentImage, denoise],
        outputs: outputs(Output<Latent>(tooltip: "The denoised latent.")))

    public init() {}

    public static func validate(_ constants: NodeConstants, environment: ExecutionEnvironment) -> String? {
        samplingValidation(constants)
    }

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(
            try commonKSampler(
                model: try inputs[Self.model], seed: try inputs[Self.seed], steps: try inputs[Self.steps],
                cfg: try inputs[Self.cfg], samplerName: try inputs[Self.samplerName],
                scheduler: try inputs[Self.scheduler],
                positive: try inputs[Self.positive], negative: try inputs[Self.negative],
                latent: try inputs[Self.latentImage], denoise: try inputs[Self.denoise], context: context))
    }
}

/// KSampler with start/end steps, optional noise and leftover noise (for multi-pass workflows).
public struct KSamplerAdvanced: Node {
    static let model = Input<DiffusionModel>("model")
    static let addNoise = Input.combo("add_noise", options: ["enable", "disable"])
    static let noiseSeed = Input.seed("noise_seed")
    static let steps = Input.int("steps", default: 20, min: 1, max: 10000)
    static let cfg = Input.float("cfg", default: 8.0, min: 0, max: 100, step: 0.1)
    static let samplerName = Input.combo("sampler_name", options: samplerNames)
    static let scheduler = Input.combo("scheduler", options: schedulerNames)
    static let positive = Input<Conditioning>("positive")
    static let negative = Input<Conditioning>("negative")
    static let latentImage = Input<Latent>("latent_image")
    static let startAt = Input.int("start_at_step", default: 0, min: 0, max: 10000)
    static let endAt = Input.int("end_at_step", default: 10000, min: 0, max: 10000)
    static let leftover = Input.combo("return_with_leftover_noise", options: ["disable", "enable"])

    public static let schema = NodeSchema(
        "KSamplerAdvanced", displayName: "KSampler (Advanced)", category: "sampling",
        inputs: [
            model, addNoise, noiseSeed, steps, cfg, samplerName, scheduler, positive, negative, latentImage, startAt,
            endAt, leftover,
        ],
        outputs: outputs(Output<Latent>()))

    public init() {}

    public static func validate(_ constants: NodeConstants, environment: ExecutionEnvironment) -> String? {
        samplingValidation(constants)
    }

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(
            try commonKSampler(
                model: try inputs[Self.model], seed: try inputs[Self.noiseSeed], steps: try inputs[Self.steps],
                cfg: try inputs[Self.cfg],
                samplerName: try inputs[Self.samplerName], scheduler: try inputs[Self.scheduler],
                positive: try inputs[Self.positive],
                negative: try inputs[Self.negative], latent: try inputs[Self.latentImage], denoise: 1.0,
                addNoise: try inputs[Self.addNoise] == "enable", startStep: try inputs[Self.startAt],
                endStep: try inputs[Self.endAt],
                forceFullDenoise: try inputs[Self.leftover] != "enable", context: context))
    }
}
