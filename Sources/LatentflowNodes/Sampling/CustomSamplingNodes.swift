import LatentflowGraph
import LatentflowSampling
import LatentflowTensor

// More of the custom-sampling nodes (ComfyUI `comfy_extras/nodes_custom_sampler.py`).

public struct SamplingPercentToSigma: Node {
    static let model = Input<DiffusionModel>("model")
    static let samplingPercent = Input.float("sampling_percent", default: 0, min: 0, max: 1, step: 0.0001)
    static let returnActualSigma = Input.boolean(
        "return_actual_sigma", default: false,
        tooltip:
            "Return the actual sigma value instead of the value used for interval checks.\nThis only affects results at 0.0 and 1.0."
    )
    public static let schema = NodeSchema(
        "SamplingPercentToSigma", category: "sampling/custom_sampling/sigmas",
        inputs: [model, samplingPercent, returnActualSigma], outputs: outputs(Output<Double>("sigma_value")))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let sampling = try inputs[Self.model].sampling
        let percent = try inputs[Self.samplingPercent]
        if try inputs[Self.returnActualSigma] {
            if percent == 0 { return NodeOutputs(Double(sampling.sigmaMax)) }
            if percent == 1 { return NodeOutputs(Double(sampling.sigmaMin)) }
        }
        // The "always active" sentinel is a Python float, not a float32 sigma.
        if percent <= 0 { return NodeOutputs(999_999_999.9) }
        return NodeOutputs(Double(sampling.percentToSigma(percent)))
    }
}

public struct AddNoise: Node {
    static let model = Input<DiffusionModel>("model")
    static let noise = Input<NoiseSource>("noise")
    static let sigmas = Input<Sigmas>("sigmas")
    static let latentImage = Input<Latent>("latent_image")
    public static let schema = NodeSchema(
        "AddNoise", category: "_for_testing/custom_sampling/noise",
        inputs: [model, noise, sigmas, latentImage], outputs: outputs(Output<Latent>()))
    public init() {}
    /// The NOISE's initial noise (`prepare_noise` with the latent's batch index) scaled by the
    /// schedule's span |σ_first − σ_last| (or its one sigma), added in model space and returned
    /// in latent space; non-finite values become 0.
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let sigmas = try inputs[Self.sigmas].values
        var latent = try inputs[Self.latentImage]
        guard let first = sigmas.first, let last = sigmas.last else { return NodeOutputs(latent) }
        let model = try inputs[Self.model], source = try inputs[Self.noise]
        let shape = latent.samples.shape
        let noise =
            source.enabled
            ? try comfyInitialNoise(
                shape: shape, seed: UInt64(bitPattern: Int64(source.seed)), batchIndex: latent.batchIndex)
            : Tensor(shape: shape)
        let scale = sigmas.count > 1 ? abs(first - last) : first
        let empty = latent.samples.scalars.allSatisfy { $0 == 0 }
        let start = empty ? latent.samples : latent.samples.scaled(by: model.latentScale)
        let noisy = try model.sampling.noiseScaling(sigma: scale, noise: noise, latent: start)
            .dividing(Tensor(shape: [], repeating: model.latentScale))
        latent.samples = noisy.mapScalars { $0.isFinite ? $0 : 0 }
        return NodeOutputs(latent)
    }
}

public struct DualCFGGuider: Node {
    static let model = Input<DiffusionModel>("model")
    static let cond1 = Input<Conditioning>("cond1")
    static let cond2 = Input<Conditioning>("cond2")
    static let negative = Input<Conditioning>("negative")
    static let cfgConds = Input.float("cfg_conds", default: 8, min: 0, max: 100, step: 0.1)
    static let cfgCond2Negative = Input.float("cfg_cond2_negative", default: 8, min: 0, max: 100, step: 0.1)
    static let style = Input.combo("style", options: ["regular", "nested"])
    public static let schema = NodeSchema(
        "DualCFGGuider", category: "sampling/custom_sampling/guiders",
        inputs: [model, cond1, cond2, negative, cfgConds, cfgCond2Negative, style], outputs: outputs(Output<Guider>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var guider = Guider(
            model: try inputs[Self.model], positive: try inputs[Self.cond1], negative: try inputs[Self.negative],
            cfg: try inputs[Self.cfgConds])
        guider.dualCFG = DualCFGSettings(
            middle: try inputs[Self.cond2], cfgMiddleNegative: try inputs[Self.cfgCond2Negative],
            nested: try inputs[Self.style] == "nested")
        return NodeOutputs(guider)
    }
}
