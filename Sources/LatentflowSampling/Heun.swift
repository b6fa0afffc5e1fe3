import LatentflowTensor

/// Heun: an Euler step, then the average of the derivatives at both ends (Euler into σ = 0).
///
/// Matches: ComfyUI `comfy/k_diffusion/sampling.py` `sample_heun` with s_churn 0.
struct Heun: SamplerAlgorithm {
    var names: [SamplerName] { [.heun] }

    func sample(
        denoiser: Denoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        try Samplers.stepping(from: x, sigmas: sigmas, denoiser: denoiser, onStep: onStep) { step, x, denoised in
            let d = try Samplers.derivative(x, denoised, sigma: step.sigma)
            let dt = step.next - step.sigma
            if step.next == 0 { return try x.adding(d.scaled(by: dt)) }
            let x2 = try x.adding(d.scaled(by: dt))
            let d2 = try Samplers.derivative(x2, denoiser(x2, step.next), sigma: step.next)
            return try x.adding(d.adding(d2).scaled(by: 0.5).scaled(by: dt))
        }
    }
}
