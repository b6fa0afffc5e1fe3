import Foundation
import LatentflowTensor

/// DPM-Solver-2, plain or ancestral: an Euler half step to the geometric midpoint, then the
/// full step with the derivative found there (the ancestral one steps to σ_down and adds step
/// noise scaled by σ_up). KSampler drops the next-to-last sigma for both.
///
/// Matches: ComfyUI `comfy/k_diffusion/sampling.py` `sample_dpm_2` with s_churn 0 and
/// `sample_dpm_2_ancestral` with eta 1, s_noise 1.
struct DPM2: SamplerAlgorithm {
    let ancestral: Bool

    var names: [SamplerName] { ancestral ? [.dpm2Ancestral] : [.dpm2] }
    var discardsPenultimateSigma: Bool { true }

    func sample(
        denoiser: Denoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        try Samplers.stepping(from: x, sigmas: sigmas, denoiser: denoiser, onStep: onStep) { step, x, denoised in
            guard ancestral else {
                return try Self.step(x, denoised, sigma: step.sigma, to: step.next, denoiser: denoiser)
            }
            let (down, up) = Samplers.ancestralStep(from: step.sigma, to: step.next)
            let result = try Self.step(x, denoised, sigma: step.sigma, to: down, denoiser: denoiser)
            return down != 0 ? try result.adding(noise.next(like: result).scaled(by: up)) : result
        }
    }

    /// A DPM-Solver-2 step from σ to `target` (Euler when `target` is 0).
    static func step(
        _ x: Tensor, _ denoised: Tensor, sigma: Float, to target: Float,
        denoiser: Denoiser
    ) throws -> Tensor {
        let d = try Samplers.derivative(x, denoised, sigma: sigma)
        if target == 0 { return try x.adding(d.scaled(by: target - sigma)) }
        let mid = expf(Samplers.midpointLerp(logf(sigma), logf(target)))
        let x2 = try x.adding(d.scaled(by: mid - sigma))
        let d2 = try Samplers.derivative(x2, denoiser(x2, mid), sigma: mid)
        return try x.adding(d2.scaled(by: target - sigma))
    }
}
