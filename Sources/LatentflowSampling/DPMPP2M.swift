import Foundation
import LatentflowTensor

/// DPM-Solver++(2M): the exponential integrator in log-SNR, corrected with the previous step's
/// prediction (first order on the first step and into σ = 0).
///
/// Matches: ComfyUI `comfy/k_diffusion/sampling.py` `sample_dpmpp_2m`.
struct DPMPP2M: SamplerAlgorithm {
    var names: [SamplerName] { [.dpmpp2m] }

    func sample(
        denoiser: Denoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        var previousDenoised: Tensor?
        return try Samplers.stepping(from: x, sigmas: sigmas, denoiser: denoiser, onStep: onStep) { step, x, denoised in
            defer { previousDenoised = denoised }
            return try Self.step(x, denoised, previous: previousDenoised, sigmas: sigmas, i: step.i)
        }
    }

    static func step(_ x: Tensor, _ denoised: Tensor, previous: Tensor?, sigmas: [Float], i: Int) throws -> Tensor {
        func t(_ sigma: Float) -> Float { -logf(sigma) }
        func sigmaOf(_ t: Float) -> Float { expf(-t) }
        let tNow = t(sigmas[i]), tNext = t(sigmas[i + 1])
        let h = tNext - tNow
        let ratio = sigmaOf(tNext) / sigmaOf(tNow)
        let factor = expm1f(-h)
        guard let previous, sigmas[i + 1] != 0 else {
            return try x.scaled(by: ratio).subtracting(denoised.scaled(by: factor))
        }
        let hLast = tNow - t(sigmas[i - 1])
        let r = hLast / h
        let corrected = try denoised.scaled(by: 1 + 1 / (2 * r)).subtracting(previous.scaled(by: 1 / (2 * r)))
        return try x.scaled(by: ratio).subtracting(corrected.scaled(by: factor))
    }
}
