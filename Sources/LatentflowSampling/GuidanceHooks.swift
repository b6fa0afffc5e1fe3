import LatentflowTensor

/// What one guided denoiser call has predicted, as the guidance hooks see it (ComfyUI's hook
/// `args`): every prediction is denoised (x0), not noise.
public struct CFGPredictions: Sendable {
    /// The sampler's x at `sigma` (`input`).
    public let x: Tensor
    public let sigma: Float
    /// The CFG scale (`cond_scale`).
    public let cfg: Double
    /// Under the positive conditioning (`cond_denoised`).
    public var cond: Tensor
    /// Under the negative conditioning (`uncond_denoised`); zeros when cfg ≈ 1 skipped it, as
    /// ComfyUI's `calc_cond_batch` gives 0 for a `None` cond.
    public var uncond: Tensor
    /// Whether cfg ≈ 1 skipped the negative (ComfyUI's `conds[1] is None`).
    public let uncondSkipped: Bool

    public init(x: Tensor, sigma: Float, cfg: Double, cond: Tensor, uncond: Tensor, uncondSkipped: Bool) {
        (self.x, self.sigma, self.cfg, self.cond, self.uncond) = (x, sigma, cfg, cond, uncond)
        self.uncondSkipped = uncondSkipped
    }
}

/// One change to classifier-free guidance, in the three places ComfyUI's `model_options` has.
/// Hooks are made for one sampling run (they may call that run's model), so they need not be Sendable.
public enum GuidanceHook {
    /// `sampler_pre_cfg_function`: changes the predictions before they are combined (TCFG).
    case preCFG((CFGPredictions) throws -> CFGPredictions)
    /// `sampler_cfg_function`: combines the predictions in place of uncond + (cond − uncond)·cfg
    /// and returns the denoised result (RescaleCFG); only the last one set applies.
    case cfg((CFGPredictions) throws -> Tensor)
    /// `sampler_post_cfg_function`: changes the combined `denoised` (CFGZeroStar, PAG); they run
    /// in the order they were added. `CFGPredictions.uncond` is ComfyUI's `uncond_denoised`.
    case postCFG((CFGPredictions, _ denoised: Tensor) throws -> Tensor)
}

/// The guidance hooks of one sampling run, in the order their patches were applied.
///
/// Matches: ComfyUI `comfy/samplers.py` `sampling_function` (pre-CFG list, then `cfg_function`)
/// and `comfy/model_patcher.py` `set_model_sampler_*_function` (the cfg function replaces, the
/// pre/post lists append; `disable_cfg1_optimization`).
public struct GuidanceHooks {
    public var hooks: [GuidanceHook]
    /// Computes the negative even at cfg ≈ 1 (a hook that reads it asked for it).
    public var disableCFG1Optimization: Bool

    public init(_ hooks: [GuidanceHook] = [], disableCFG1Optimization: Bool = false) {
        (self.hooks, self.disableCFG1Optimization) = (hooks, disableCFG1Optimization)
    }

    public var isEmpty: Bool { hooks.isEmpty }

    /// The pre-CFG hooks applied in order.
    public func applyPreCFG(_ predictions: CFGPredictions) throws -> CFGPredictions {
        var p = predictions
        for case let .preCFG(hook) in hooks { p = try hook(p) }
        return p
    }

    /// The last cfg hook's combination, or uncond + (cond − uncond)·cfg.
    public func combine(_ p: CFGPredictions) throws -> Tensor {
        let last = hooks.last(where: { if case .cfg = $0 { true } else { false } })
        if case let .cfg(hook) = last { return try hook(p) }
        return try p.uncond.adding(p.cond.subtracting(p.uncond).scaled(by: Float(p.cfg)))
    }

    /// The post-CFG hooks applied in order to `denoised`.
    public func applyPostCFG(_ p: CFGPredictions, denoised: Tensor) throws -> Tensor {
        var result = denoised
        for case let .postCFG(hook) in hooks { result = try hook(p, result) }
        return result
    }
}

/// Changes a noise mask for the step at `sigma` (ComfyUI's `denoise_mask_function`, e.g.
/// DifferentialDiffusion's thresholding); `sigmas` is the run's whole schedule.
public typealias DenoiseMaskFunction =
    @Sendable (_ sigma: Float, _ mask: Tensor, _ sigmas: [Float], _ sampling: ModelSampling) throws -> Tensor
