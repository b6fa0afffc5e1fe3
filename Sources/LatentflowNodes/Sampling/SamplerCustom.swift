import LatentflowGraph
import LatentflowSampling
import LatentflowTensor

public struct KSamplerSelect: Node {
    static let samplerName = Input.combo("sampler_name", options: samplerNames)
    public static let schema = NodeSchema(
        "KSamplerSelect", category: "sampling/custom_sampling/samplers",
        inputs: [samplerName], outputs: outputs(Output<SamplerChoice>()))
    public init() {}
    public static func validate(_ constants: NodeConstants, environment: ExecutionEnvironment) -> String? {
        samplingValidation(constants)
    }
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        guard let name = SamplerName(rawValue: try inputs[Self.samplerName]) else { throw NodeError("unknown sampler") }
        return NodeOutputs(SamplerChoice(name: name))
    }
}

public struct BasicScheduler: Node {
    static let model = Input<DiffusionModel>("model")
    static let scheduler = Input.combo("scheduler", options: schedulerNames)
    static let steps = Input.int("steps", default: 20, min: 1, max: 10000)
    static let denoise = Input.float("denoise", default: 1.0, min: 0, max: 1, step: 0.01)
    public static let schema = NodeSchema(
        "BasicScheduler", category: "sampling/custom_sampling/schedulers",
        inputs: [model, scheduler, steps, denoise], outputs: outputs(Output<Sigmas>()))
    public init() {}
    public static func validate(_ constants: NodeConstants, environment: ExecutionEnvironment) -> String? {
        samplingValidation(constants)
    }
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        guard let scheduler = SchedulerName(rawValue: try inputs[Self.scheduler]) else {
            throw NodeError("unknown scheduler")
        }
        let steps = try inputs[Self.steps], denoise = try inputs[Self.denoise]
        if denoise <= 0 { return NodeOutputs(Sigmas(values: [])) }
        let total = denoise < 1 ? try SamplingPlan.scheduledSteps(steps: steps, denoise: denoise) : steps
        let sigmas = try Schedulers.sigmas(scheduler, try inputs[Self.model].sampling, steps: total)
        return NodeOutputs(Sigmas(values: Array(sigmas.suffix(steps + 1))))
    }
}

public struct RandomNoise: Node {
    static let seed = Input.seed("noise_seed")
    public static let schema = NodeSchema(
        "RandomNoise", category: "sampling/custom_sampling/noise", inputs: [seed],
        outputs: outputs(Output<NoiseSource>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(NoiseSource(seed: try inputs[Self.seed], enabled: true))
    }
}

public struct DisableNoise: Node {
    public static let schema = NodeSchema(
        "DisableNoise", category: "sampling/custom_sampling/noise", outputs: outputs(Output<NoiseSource>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(NoiseSource(seed: 0, enabled: false))
    }
}

public struct CFGGuider: Node {
    static let model = Input<DiffusionModel>("model")
    static let positive = Input<Conditioning>("positive")
    static let negative = Input<Conditioning>("negative")
    static let cfg = Input.float("cfg", default: 8.0, min: 0, max: 100, step: 0.1)
    public static let schema = NodeSchema(
        "CFGGuider", category: "sampling/custom_sampling/guiders",
        inputs: [model, positive, negative, cfg], outputs: outputs(Output<Guider>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(
            Guider(
                model: try inputs[Self.model], positive: try inputs[Self.positive], negative: try inputs[Self.negative],
                cfg: try inputs[Self.cfg]))
    }
}

public struct BasicGuider: Node {
    static let model = Input<DiffusionModel>("model")
    static let conditioning = Input<Conditioning>("conditioning")
    public static let schema = NodeSchema(
        "BasicGuider", category: "sampling/custom_sampling/guiders",
        inputs: [model, conditioning], outputs: outputs(Output<Guider>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let conditioning = try inputs[Self.conditioning]
        return NodeOutputs(
            Guider(model: try inputs[Self.model], positive: conditioning, negative: conditioning, cfg: 1))
    }
}

/// Samples with explicit sampler, sigmas and guider; returns the result and the last denoised
/// prediction (ComfyUI `comfy_extras/nodes_custom_sampler.py`).
func customSample(
    guider: Guider, sampler: SamplerChoice, sigmas: [Float], noise: NoiseSource, latent: Latent,
    context: ExecutionContext
) throws -> (Latent, Latent) {
    var plan = SamplingPlan(sampler: sampler.name, sigmas: sigmas, seed: UInt64(bitPattern: Int64(noise.seed)))
    plan.customAlgorithm = sampler.custom
    plan.addNoise = noise.enabled
    plan.stepNoiseSeedOffset = context.environment.builtinSettings.stepNoiseSeedOffset
    plan.latentScale = guider.model.latentScale
    plan.denoiseMask = latent.noiseMask
    plan.denoiseMaskFunction = guider.model.denoiseMaskFunction
    let (height, width) = (latent.samples.dim(2), latent.samples.dim(3))
    let denoiser = try CFGDenoiser(
        model: guider.model, positive: try guider.positive.resolvedForSampling(height: height, width: width),
        negative: try guider.negative.resolvedForSampling(height: height, width: width), cfg: guider.cfg,
        inpaint: try inpaintConcat(guider.model, plan: plan, latent: latent.samples),
        perpNeg: guider.perpNeg.map {
            (empty: try $0.empty.resolvedForSampling(height: height, width: width), negScale: $0.negScale)
        },
        dualCFG: guider.dualCFG.map {
            DualCFGSettings(
                middle: $0.middle.resolvingAreaFractions(height: height, width: width),
                cfgMiddleNegative: $0.cfgMiddleNegative, nested: $0.nested)
        },
        seed: plan.seed, sampleSigmas: sigmas, warn: context.warn)
    let preview = StepPreview(context)
    let result = try plan.run(
        latent: latent.samples, batchIndex: latent.batchIndex, sampling: guider.model.sampling,
        denoiser: { try denoiser.denoise($0, sigma: $1) },
        guided: { try denoiser.denoiseWithUnconditional($0, sigma: $1) }
    ) { step, total, denoised in
        try context.checkCancellation()
        context.progress(step, of: total)
        preview.report(step, of: total, denoised: denoised)
    }
    var output = latent, denoised = latent
    output.samples = result.samples
    denoised.samples = result.denoised
    return (output, denoised)
}

/// What an inpainting UNet's extra channels are built from; nil for a UNet that reads the latent only.
private func inpaintConcat(_ model: DiffusionModel, plan: SamplingPlan, latent: Tensor) throws -> InpaintConcat? {
    let (wanted, channels) = (model.unet.config.inChannels, latent.dim(1))
    if wanted == channels { return nil }
    if wanted == 2 * channels {
        return InpaintConcat(
            latentImage: latent, denoiseMask: nil, latentScale: model.latentScale, instructPixToPix: true)
    }
    guard wanted == 2 * channels + 1 else {
        throw NodeError(
            "the UNet takes \(wanted) input channels but the latent has \(channels) (an inpainting UNet takes \(2 * channels + 1): latent, mask, masked image; an InstructPix2Pix UNet \(2 * channels))"
        )
    }
    return InpaintConcat(
        latentImage: plan.processedLatent(latent),
        denoiseMask: try plan.denoiseMask.map { try InpaintBlend.prepareMask($0, shape: latent.shape) },
        latentScale: model.latentScale)
}

public struct SamplerCustom: Node {
    static let model = Input<DiffusionModel>("model")
    static let addNoise = Input.boolean("add_noise", default: true)
    static let noiseSeed = Input.seed("noise_seed")
    static let cfg = Input.float("cfg", default: 8.0, min: 0, max: 100, step: 0.1)
    static let positive = Input<Conditioning>("positive")
    static let negative = Input<Conditioning>("negative")
    static let sampler = Input<SamplerChoice>("sampler")
    static let sigmas = Input<Sigmas>("sigmas")
    static let latentImage = Input<Latent>("latent_image")
    public static let schema = NodeSchema(
        "SamplerCustom", category: "sampling/custom_sampling",
        inputs: [model, addNoise, noiseSeed, cfg, positive, negative, sampler, sigmas, latentImage],
        outputs: outputs(Output<Latent>("output"), Output<Latent>("denoised_output")))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let guider = Guider(
            model: try inputs[Self.model], positive: try inputs[Self.positive], negative: try inputs[Self.negative],
            cfg: try inputs[Self.cfg])
        let (output, denoised) = try customSample(
            guider: guider, sampler: try inputs[Self.sampler], sigmas: try inputs[Self.sigmas].values,
            noise: NoiseSource(seed: try inputs[Self.noiseSeed], enabled: try inputs[Self.addNoise]),
            latent: try inputs[Self.latentImage], context: context)
        return NodeOutputs(output, denoised)
    }
}

public struct SamplerCustomAdvanced: Node {
    static let noise = Input<NoiseSource>("noise")
    static let guider = Input<Guider>("guider")
    static let sampler = Input<SamplerChoice>("sampler")
    static let sigmas = Input<Sigmas>("sigmas")
    static let latentImage = Input<Latent>("latent_image")
    public static let schema = NodeSchema(
        "SamplerCustomAdvanced", category: "sampling/custom_sampling",
        inputs: [noise, guider, sampler, sigmas, latentImage],
        outputs: outputs(Output<Latent>("output"), Output<Latent>("denoised_output")))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let (output, denoised) = try customSample(
            guider: try inputs[Self.guider], sampler: try inputs[Self.sampler],
            sigmas: try inputs[Self.sigmas].values, noise: try inputs[Self.noise],
            latent: try inputs[Self.latentImage], context: context)
        return NodeOutputs(output, denoised)
    }
}
