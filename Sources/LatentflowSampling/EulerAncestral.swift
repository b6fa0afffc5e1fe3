import LatentflowTensor

/// Euler ancestral: an Euler step down to σ_down, then fresh step noise scaled by σ_up.
///
/// Matches: ComfyUI `comfy/k_diffusion/sampling.py` `sample_euler_ancestral` (eta 1 and s_noise 1
/// from the menu; `SamplerEulerAncestral` sets them).
struct EulerAncestral: SamplerAlgorithm {
    var eta = 1.0, sNoise = 1.0

    var names: [SamplerName] { [.eulerAncestral] }

    func sample(
        denoiser: Denoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        try Samplers.stepping(from: x, sigmas: sigmas, denoiser: denoiser, onStep: onStep) { step, x, denoised in
            let (down, up) = Samplers.ancestralStep(from: step.sigma, to: step.next, eta: eta)
            if down == 0 { return denoised }
            return try Samplers.eulerStep(x, denoised, sigma: step.sigma, to: down)
                .adding(noise.next(like: x).scaled(by: Float(sNoise)).scaled(by: up))
        }
    }
}
