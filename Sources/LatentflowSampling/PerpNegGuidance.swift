import LatentflowTensor

/// Perp-Neg guidance: the negative pushes away only along its part perpendicular to the
/// positive, both measured from an empty prompt's prediction.
///
/// Matches: ComfyUI `comfy_extras/nodes_perpneg.py` `perp_neg` and `Guider_PerpNeg.predict_noise`
/// (the pre-CFG hooks see [positive, negative, empty], no cfg function, then the post-CFG hooks).
public struct PerpNegGuidance {
    public let positive: [CFGGuidance.Entry]
    public let negative: [CFGGuidance.Entry]
    public let empty: [CFGGuidance.Entry]
    public let cfg: Double
    public let negScale: Double
    public var hooks: GuidanceHooks

    public init(
        positive: [CFGGuidance.Entry], negative: [CFGGuidance.Entry], empty: [CFGGuidance.Entry], cfg: Double,
        negScale: Double, hooks: GuidanceHooks = GuidanceHooks()
    ) {
        (self.positive, self.negative, self.empty) = (positive, negative, empty)
        (self.cfg, self.negScale, self.hooks) = (cfg, negScale, hooks)
    }

    public func denoise(_ x: Tensor, sigma: Float) throws -> Tensor {
        // neg_scale ≈ 0 drops the negative, and with cfg ≈ 1 the empty prompt too (zeros stand in).
        let optimize = !hooks.disableCFG1Optimization && abs(negScale) <= 1e-9
        let skipNegative = optimize
        let skipEmpty = optimize && CFGGuidance.isUnitScale(cfg)
        let cond = try CFGGuidance.predict(positive, x, sigma)
        let uncond = skipNegative ? Tensor(shape: x.shape) : try CFGGuidance.predict(negative, x, sigma)
        let emptyPrediction = skipEmpty ? Tensor(shape: x.shape) : try CFGGuidance.predict(empty, x, sigma)
        let p = try hooks.applyPreCFG(
            CFGPredictions(x: x, sigma: sigma, cfg: cfg, cond: cond, uncond: uncond, uncondSkipped: skipNegative))
        let combined = try Self.perpNeg(
            positive: p.cond, negative: p.uncond, empty: emptyPrediction, negScale: negScale, cfg: cfg)
        return try hooks.applyPostCFG(p, denoised: combined)
    }

    /// empty + cfg·(pos − neg_scale·perp), pos = positive − empty, perp = the part of
    /// (negative − empty) perpendicular to pos, over the whole batch at once (as `torch.norm`).
    public static func perpNeg(
        positive: Tensor, negative: Tensor, empty: Tensor, negScale: Double, cfg: Double
    ) throws -> Tensor {
        let pos = try positive.subtracting(empty), neg = try negative.subtracting(empty)
        var dot: Float = 0, norm: Float = 0
        for i in 0..<pos.count {
            dot += neg.scalars[i] * pos.scalars[i]
            norm += pos.scalars[i] * pos.scalars[i]
        }
        // torch.norm is sqrt(Σ pos²); squaring it back rounds as ComfyUI's `norm ** 2` does.
        let normSquared = norm.squareRoot() * norm.squareRoot()
        let perp = try neg.subtracting(pos.scaled(by: dot / normSquared))
        return try empty.adding(pos.subtracting(perp.scaled(by: Float(negScale))).scaled(by: Float(cfg)))
    }
}
