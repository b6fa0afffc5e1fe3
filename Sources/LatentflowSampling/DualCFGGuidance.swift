import LatentflowTensor

/// Guidance by two prompts against one negative: "regular" adds each prompt's difference scaled
/// by its own weight (cond1 − cond2 by cfg_conds, cond2 − negative by cfg_cond2_negative through
/// the CFG function); "nested" guides cond1 against cond2 first, then that against the negative.
///
/// Matches: ComfyUI `comfy_extras/nodes_custom_sampler.py` `Guider_DualCFG.predict_noise`: no
/// pre-CFG hooks (it skips `sampling_function`), the CFG function and post-CFG hooks through
/// `cfg_function`, and with "regular" the cfg-1 shortcut drops the negative (cfg_cond2_negative ≈ 1)
/// and then cond2 too (both ≈ 1).
public struct DualCFGGuidance {
    public let positive: [CFGGuidance.Entry]
    public let middle: [CFGGuidance.Entry]
    public let negative: [CFGGuidance.Entry]
    /// `cfg_conds` and `cfg_cond2_negative`.
    public let cfgConds: Double, cfgMiddleNegative: Double
    public let nested: Bool
    public var hooks: GuidanceHooks

    public init(
        positive: [CFGGuidance.Entry], middle: [CFGGuidance.Entry], negative: [CFGGuidance.Entry],
        cfgConds: Double, cfgMiddleNegative: Double, nested: Bool, hooks: GuidanceHooks = GuidanceHooks()
    ) {
        (self.positive, self.middle, self.negative) = (positive, middle, negative)
        (self.cfgConds, self.cfgMiddleNegative, self.nested, self.hooks) = (cfgConds, cfgMiddleNegative, nested, hooks)
    }

    public func denoise(_ x: Tensor, sigma: Float) throws -> Tensor {
        try guided(x, sigma: sigma, alwaysUnconditional: false).denoised
    }

    /// The guided prediction with the `uncond_denoised` its CFG function saw (the negative, or with
    /// "nested" cond2), for the CFG++ samplers: the cfg-1 shortcut is then off.
    public func denoiseWithUnconditional(_ x: Tensor, sigma: Float) throws -> (denoised: Tensor, unconditional: Tensor)
    {
        try guided(x, sigma: sigma, alwaysUnconditional: true)
    }

    private func guided(_ x: Tensor, sigma: Float, alwaysUnconditional: Bool) throws
        -> (denoised: Tensor, unconditional: Tensor)
    {
        let optimize = !nested && !hooks.disableCFG1Optimization && !alwaysUnconditional
        let skipNegative = optimize && CFGGuidance.isUnitScale(cfgMiddleNegative)
        let skipMiddle = skipNegative && CFGGuidance.isUnitScale(cfgConds)
        let negativePrediction = skipNegative ? Tensor(shape: x.shape) : try CFGGuidance.predict(negative, x, sigma)
        let middlePrediction = skipMiddle ? Tensor(shape: x.shape) : try CFGGuidance.predict(middle, x, sigma)
        let positivePrediction = try CFGGuidance.predict(positive, x, sigma)
        if nested {
            let text = try cfgFunction(
                x, sigma, cond: positivePrediction, uncond: middlePrediction, cfg: cfgConds, skipped: false)
            let denoised = try negativePrediction.adding(
                text.subtracting(negativePrediction).scaled(by: Float(cfgMiddleNegative)))
            return (denoised, middlePrediction)
        }
        let guided = try cfgFunction(
            x, sigma, cond: middlePrediction, uncond: negativePrediction, cfg: cfgMiddleNegative, skipped: skipNegative)
        let denoised = try guided.adding(positivePrediction.subtracting(middlePrediction).scaled(by: Float(cfgConds)))
        return (denoised, negativePrediction)
    }

    /// ComfyUI's `cfg_function`: the MODEL's CFG function (or uncond + (cond − uncond)·cfg), then
    /// its post-CFG hooks.
    private func cfgFunction(
        _ x: Tensor, _ sigma: Float, cond: Tensor, uncond: Tensor, cfg: Double, skipped: Bool
    ) throws -> Tensor {
        let predictions = CFGPredictions(
            x: x, sigma: sigma, cfg: cfg, cond: cond, uncond: uncond, uncondSkipped: skipped)
        return try hooks.applyPostCFG(predictions, denoised: hooks.combine(predictions))
    }
}
