import LatentflowTensor

/// Gradient estimation: Euler plus (γ − 1)·(d − d_previous)·dt with γ = 2, the denoised
/// prediction into σ = 0.
///
/// Matches: ComfyUI `comfy/k_diffusion/sampling.py` `sample_gradient_estimation` with ge_gamma 2.
struct GradientEstimation: SamplerAlgorithm {
    var names: [SamplerName] { [.gradientEstimation] }

    func sample(
        denoiser: Denoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        var previousDerivative: Tensor?
        return try Samplers.stepping(from: x, sigmas: sigmas, denoiser: denoiser, onStep: onStep) { step, x, denoised in
            let d = try Samplers.derivative(x, denoised, sigma: step.sigma)
            defer { previousDerivative = d }
            if step.next == 0 { return denoised }
            let dt = step.next - step.sigma
            let result = try x.adding(d.scaled(by: dt))
            // ge_gamma 2: x += (gamma − 1)·(d − d_previous)·dt
            guard let old = previousDerivative else { return result }
            return try result.adding(d.subtracting(old).scaled(by: dt))
        }
    }
}
