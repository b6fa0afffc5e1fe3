import Foundation
import LatentflowTensor

/// DPM-Solver++(2S) ancestral: half way to σ_down in log-SNR for a second prediction, the full
/// step with it, then step noise scaled by σ_up.
///
/// Matches: ComfyUI `comfy/k_diffusion/sampling.py` `sample_dpmpp_2s_ancestral` (eta 1 and
/// s_noise 1 from the menu; `SamplerDPMPP_2S_Ancestral` sets them).
struct DPMPP2SAncestral: SamplerAlgorithm {
    var eta = 1.0, sNoise = 1.0

    var names: [SamplerName] { [.dpmpp2sAncestral] }

    func sample(
        denoiser: Denoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        try Samplers.stepping(from: x, sigmas: sigmas, denoiser: denoiser, onStep: onStep) { step, x, denoised in
            let (down, up) = Samplers.ancestralStep(from: step.sigma, to: step.next, eta: eta)
            let result = try Self.step(x, denoised, sigma: step.sigma, to: down, denoiser: denoiser)
            guard step.next > 0 else { return result }
            return try result.adding(noise.next(like: result).scaled(by: Float(sNoise)).scaled(by: up))
        }
    }

    /// A DPM-Solver++(2S) step from σ to `target` (Euler when `target` is 0).
    static func step(
        _ x: Tensor, _ denoised: Tensor, sigma: Float, to target: Float,
        denoiser: Denoiser
    ) throws -> Tensor {
        if target == 0 {
            return try x.adding(Samplers.derivative(x, denoised, sigma: sigma).scaled(by: target - sigma))
        }
        let t = -logf(sigma), tNext = -logf(target)
        let h = tNext - t
        let s = t + 0.5 * h
        let x2 = try x.scaled(by: expf(-s) / expf(-t)).subtracting(denoised.scaled(by: expm1f(-h * 0.5)))
        let denoised2 = try denoiser(x2, expf(-s))
        return try x.scaled(by: expf(-tNext) / expf(-t)).subtracting(denoised2.scaled(by: expm1f(-h)))
    }
}
