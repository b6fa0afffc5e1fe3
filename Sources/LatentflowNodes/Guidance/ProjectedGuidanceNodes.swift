import LatentflowGraph
import LatentflowSampling

/// Adaptive Projected Guidance: CFG's guidance with its part along the positive scaled by `eta`,
/// capped in norm and optionally averaged over steps.
///
/// Matches: ComfyUI `comfy_extras/nodes_apg.py` `APG` (a `sampler_pre_cfg_function`).
public struct APG: Node {
    static let model = Input<DiffusionModel>("model")
    static let eta = Input.float(
        "eta", default: 1, min: -10, max: 10, step: 0.01,
        tooltip: "Controls the scale of the parallel guidance vector. Default CFG behavior at a setting of 1.")
    static let normThreshold = Input.float(
        "norm_threshold", default: 5, min: 0, max: 50, step: 0.1,
        tooltip: "Normalize guidance vector to this value, normalization disable at a setting of 0.")
    static let momentum = Input.float(
        "momentum", default: 0, min: -5, max: 1, step: 0.01,
        tooltip: "Controls a running average of guidance during diffusion, disabled at a setting of 0.")

    public static let schema = NodeSchema(
        "APG", displayName: "Adaptive Projected Guidance", category: "sampling/custom_sampling",
        inputs: [model, eta, normThreshold, momentum], outputs: outputs(Output<DiffusionModel>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        // One state per patched MODEL, as ComfyUI's closure keeps it.
        let guidance = AdaptiveProjectedGuidance(
            eta: try inputs[Self.eta], normThreshold: try inputs[Self.normThreshold],
            momentum: try inputs[Self.momentum])
        return NodeOutputs(
            try inputs[Self.model].addingGuidance(
                GuidancePatch(name: "APG") { _ in .preCFG { try guidance.apply($0) } }))
    }
}

/// Mahiro: scales more along the positive prompt's own direction than along its difference from
/// the negative.
///
/// Matches: ComfyUI `comfy_extras/nodes_mahiro.py` `Mahiro` (a `sampler_post_cfg_function`).
public struct Mahiro: Node {
    static let model = Input<DiffusionModel>("model")

    public static let schema = NodeSchema(
        "Mahiro", displayName: "Mahiro is so cute that she deserves a better guidance function!! (。・ω・。)",
        category: "_for_testing",
        description:
            "Modify the guidance to scale more on the 'direction' of the positive prompt rather than the difference between the negative prompt.",
        inputs: [model], outputs: outputs(Output<DiffusionModel>("patched_model")))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(
            try inputs[Self.model].addingGuidance(
                GuidancePatch(name: "Mahiro") { _ in .postCFG { try MahiroGuidance.apply($0, denoised: $1) } }))
    }
}

/// FreSca: scales the guidance's low and high spatial frequencies apart.
///
/// Matches: ComfyUI `comfy_extras/nodes_fresca.py` `FreSca` (a `sampler_pre_cfg_function`).
public struct FreSca: Node {
    static let model = Input<DiffusionModel>("model")
    static let scaleLow = Input.float(
        "scale_low", default: 1, min: 0, max: 10, step: 0.01, tooltip: "Scaling factor for low-frequency components")
    static let scaleHigh = Input.float(
        "scale_high", default: 1.25, min: 0, max: 10, step: 0.01,
        tooltip: "Scaling factor for high-frequency components")
    static let freqCutoff = Input.int(
        "freq_cutoff", default: 20, min: 1, max: 10000, step: 1,
        tooltip: "Number of frequency indices around center to consider as low-frequency")

    public static let schema = NodeSchema(
        "FreSca", category: "_for_testing", description: "Applies frequency-dependent scaling to the guidance",
        inputs: [model, scaleLow, scaleHigh, freqCutoff], outputs: outputs(Output<DiffusionModel>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let (low, high, cutoff) = (try inputs[Self.scaleLow], try inputs[Self.scaleHigh], try inputs[Self.freqCutoff])
        return NodeOutputs(
            try inputs[Self.model].addingGuidance(
                GuidancePatch(name: "FreSca") { _ in
                    .preCFG { try FreScaGuidance.apply($0, scaleLow: low, scaleHigh: high, cutoff: cutoff) }
                }))
    }
}
