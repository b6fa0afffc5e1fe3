import LatentflowTensor

/// Euler ancestral: an Euler step down to σ_down, then fresh step noise scaled by σ_up.
///
/// Matches: ComfyUI `comfy/k_diffusion/sampling.py` `sample_euler_ancestral` with eta 1, s_noise 1.
struct EulerAncestral: SamplerAlgorithm {
    var names: [SamplerName] { [.eulerAncestral] }

    func sample(
        denoiser: Denoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        try Samplers.stepping(from: x, sigmas: sigmas, denoiser: denoiser, onStep: onStep) { step, x, denoised in
            let (down, up) = Samplers.ancestralStep(from: step.sigma, to: step.next)
            if down == 0 { return denoised }
            return try Samplers.eulerStep(x, denoised, sigma: step.sigma, to: down)
                .adding(noise.next(like: x).scaled(by: up))
        }
    }
}
