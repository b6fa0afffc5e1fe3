import LatentflowTensor

/// DDPM: ancestral steps in the variance-preserving frame, x rescaled by 1/sqrt(1 + σ²) in
/// and sqrt(1 + σ_next²) out.
///
/// Matches: ComfyUI `comfy/k_diffusion/sampling.py` `sample_ddpm` / `DDPMSampler_step`.
struct DDPM: SamplerAlgorithm {
    var names: [SamplerName] { [.ddpm] }

    func sample(
        denoiser: Denoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        try Samplers.stepping(from: x, sigmas: sigmas, denoiser: denoiser, onStep: onStep) { step, x, denoised in
            try Self.step(x, denoised, sigma: step.sigma, to: step.next, noise: &noise)
        }
    }

    static func step(
        _ x: Tensor, _ denoised: Tensor, sigma: Float, to next: Float,
        noise: inout StepNoise
    ) throws -> Tensor {
        let eps = try Samplers.derivative(x, denoised, sigma: sigma)
        let scaledX = try x.dividing(Samplers.scalar((1 + sigma * sigma).squareRoot()))
        let alphaCumprod = 1 / (sigma * sigma + 1), alphaCumprodPrevious = 1 / (next * next + 1)
        let alpha = alphaCumprod / alphaCumprodPrevious
        var mu = try scaledX.subtracting(eps.scaled(by: (1 - alpha) / (1 - alphaCumprod).squareRoot()))
            .scaled(by: (1 / alpha).squareRoot())
        if next > 0 {
            let spread = ((1 - alpha) * (1 - alphaCumprodPrevious) / (1 - alphaCumprod)).squareRoot()
            mu = try mu.adding(noise.next(like: x).scaled(by: spread))
            mu = mu.scaled(by: (1 + next * next).squareRoot())
        }
        return mu
    }
}
