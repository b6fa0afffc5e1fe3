import Foundation
import LatentflowTensor

/// RES multistep, plain (eta 0) or ancestral (eta 1): the second-order multistep exponential
/// step (Zhang et al. 2023, arXiv:2308.02157) to σ_down, Euler on the first step and into 0,
/// then step noise scaled by σ_up for the ancestral one.
///
/// Matches: ComfyUI `comfy/k_diffusion/sampling.py` `res_multistep` behind `sample_res_multistep`
/// and `sample_res_multistep_ancestral` (s_noise 1).
struct ResMultistep: SamplerAlgorithm {
    let ancestral: Bool

    var names: [SamplerName] { ancestral ? [.resMultistepAncestral] : [.resMultistep] }

    func sample(
        denoiser: Denoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        var previousDenoised: Tensor?
        var previousSigmaDown: Float = 0
        return try Samplers.stepping(from: x, sigmas: sigmas, denoiser: denoiser, onStep: onStep) { step, x, denoised in
            let (down, up) = ancestral ? Samplers.ancestralStep(from: step.sigma, to: step.next) : (step.next, Float(0))
            var result = try Self.step(
                x, denoised, previous: previousDenoised, sigmas: sigmas, i: step.i,
                sigmaDown: down, previousSigmaDown: previousSigmaDown)
            if step.next > 0 && up != 0 { result = try result.adding(noise.next(like: result).scaled(by: up)) }
            (previousDenoised, previousSigmaDown) = (denoised, down)
            return result
        }
    }

    static func step(
        _ x: Tensor, _ denoised: Tensor, previous: Tensor?, sigmas: [Float], i: Int,
        sigmaDown: Float, previousSigmaDown: Float
    ) throws -> Tensor {
        let sigma = sigmas[i]
        guard sigmaDown != 0, let previous else {
            return try x.adding(Samplers.derivative(x, denoised, sigma: sigma).scaled(by: sigmaDown - sigma))
        }
        let t = -logf(sigma), tOld = -logf(previousSigmaDown), tNext = -logf(sigmaDown)
        let tPrevious = -logf(sigmas[i - 1])
        let h = tNext - t
        let c2 = (tPrevious - tOld) / h
        let phi1 = expm1f(-h) / -h
        let phi2 = (phi1 - 1) / -h
        func zeroIfNaN(_ v: Float) -> Float { v.isNaN ? 0 : v }
        let b1 = zeroIfNaN(phi1 - phi2 / c2), b2 = zeroIfNaN(phi2 / c2)
        let update = try denoised.scaled(by: b1).adding(previous.scaled(by: b2)).scaled(by: h)
        return try x.scaled(by: expf(-h)).adding(update)
    }
}
