import LatentflowTensor

extension CFGGuidance {
    /// The guided prediction with the unconditional one it was guided from, for the CFG++
    /// samplers: the negative side runs even at cfg 1, and the guided value is
    /// uncond + (cond − uncond)·cfg there too.
    ///
    /// Matches: ComfyUI `comfy/samplers.py` `sampling_function` with `disable_cfg1_optimization`
    /// and `cfg_function`'s `sampler_post_cfg_function` arguments (`uncond_denoised`).
    public func denoiseWithUnconditional(_ x: Tensor, sigma: Float) throws -> (denoised: Tensor, unconditional: Tensor)
    {
        let cond = try Self.predict(positive, x, sigma)
        let uncond = try Self.predict(negative, x, sigma)
        return (try uncond.adding(cond.subtracting(uncond).scaled(by: Float(cfg))), uncond)
    }
}
