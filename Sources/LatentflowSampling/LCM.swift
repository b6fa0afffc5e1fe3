import LatentflowTensor

/// LCM: each step takes the denoised prediction and noises it afresh to the next sigma.
///
/// Matches: ComfyUI `comfy/k_diffusion/sampling.py` `sample_lcm`.
struct LCM: SamplerAlgorithm {
    var names: [SamplerName] { [.lcm] }

    func sample(
        denoiser: Denoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        try Samplers.stepping(from: x, sigmas: sigmas, denoiser: denoiser, onStep: onStep) { step, _, denoised in
            guard step.next > 0 else { return denoised }
            return try sampling.noiseScaling(sigma: step.next, noise: noise.next(like: denoised), latent: denoised)
        }
    }
}
