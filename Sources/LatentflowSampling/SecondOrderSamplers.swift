import Foundation
import LatentflowTensor

/// DPM-Solver-2 (plain and ancestral), DPM-Solver++(2S) ancestral and DDPM steps, with scalars in
/// float32 as ComfyUI's 0-dim tensors are.
///
/// Matches: ComfyUI `comfy/k_diffusion/sampling.py` (`sample_dpm_2` with s_churn 0,
/// `sample_dpm_2_ancestral`, `sample_dpmpp_2s_ancestral`, `sample_ddpm` / `DDPMSampler_step`)
/// with eta 1 and s_noise 1, for eps / v-prediction models.
extension Samplers {
    /// torch's `lerp(a, b, 0.5)`: weights from 0.5 up are computed from the end.
    static func midpointLerp(_ a: Float, _ b: Float) -> Float { b - (b - a) * 0.5 }

    /// A DPM-Solver-2 step from σ to `target` (Euler when `target` is 0): an Euler half step to
    /// the geometric midpoint, then the full step with the derivative found there.
    static func dpm2Step(_ x: Tensor, _ denoised: Tensor, sigma: Float, to target: Float, denoiser: Denoiser) throws -> Tensor {
        let d = try derivative(x, denoised, sigma: sigma)
        if target == 0 { return try x.adding(d.scaled(by: target - sigma)) }
        let mid = expf(midpointLerp(logf(sigma), logf(target)))
        let x2 = try x.adding(d.scaled(by: mid - sigma))
        let d2 = try derivative(x2, denoiser(x2, mid), sigma: mid)
        return try x.adding(d2.scaled(by: target - sigma))
    }

    /// A DPM-Solver++(2S) step from σ to `target` (Euler when `target` is 0), half way in
    /// log-SNR first.
    static func dpmpp2sStep(_ x: Tensor, _ denoised: Tensor, sigma: Float, to target: Float, denoiser: Denoiser) throws -> Tensor {
        if target == 0 { return try x.adding(derivative(x, denoised, sigma: sigma).scaled(by: target - sigma)) }
        let t = -logf(sigma), tNext = -logf(target)
        let h = tNext - t
        let s = t + 0.5 * h
        let x2 = try x.scaled(by: expf(-s) / expf(-t)).subtracting(denoised.scaled(by: expm1f(-h * 0.5)))
        let denoised2 = try denoiser(x2, expf(-s))
        return try x.scaled(by: expf(-tNext) / expf(-t)).subtracting(denoised2.scaled(by: expm1f(-h)))
    }

    /// One DDPM ancestral step in the variance-preserving frame: x is rescaled by
    /// 1/sqrt(1 + σ²) in and sqrt(1 + σ_next²) out.
    static func ddpmStep(_ x: Tensor, _ denoised: Tensor, sigma: Float, to next: Float, noise: inout StepNoise) throws -> Tensor {
        let eps = try derivative(x, denoised, sigma: sigma)
        let scaledX = try x.dividing(Tensor(shape: [], repeating: (1 + sigma * sigma).squareRoot()))
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
