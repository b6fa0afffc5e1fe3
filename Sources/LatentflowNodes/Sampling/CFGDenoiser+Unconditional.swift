import LatentflowTensor

extension CFGDenoiser {
    /// The guided prediction with the unconditional one, which the CFG++ samplers step along.
    func denoiseWithUnconditional(_ x: Tensor, sigma: Float) throws -> (denoised: Tensor, unconditional: Tensor) {
        try guidance.denoiseWithUnconditional(x, sigma: sigma)
    }
}
