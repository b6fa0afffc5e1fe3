import Foundation
import LatentflowTensor

/// The CFG++ samplers (Chung et al. 2024, arXiv:2406.08070): each step renoises along the
/// unconditional prediction instead of the guided one, so the guidance moves the sample only
/// towards the guided prediction of the current step. They run on a `GuidedDenoiser`.
///
/// Matches: ComfyUI `comfy/k_diffusion/sampling.py` `sample_euler_ancestral_cfg_pp` (and
/// `sample_euler_cfg_pp`: eta 0, s_noise 0), `sample_dpmpp_2s_ancestral_cfg_pp`,
/// `sample_dpmpp_2m_cfg_pp`, `res_multistep` with `cfg_pp` (`sample_res_multistep_cfg_pp`,
/// `sample_res_multistep_ancestral_cfg_pp`) and `sample_gradient_estimation` with `cfg_pp`
/// (ge_gamma 2), for ε/v-prediction models (not the CONST/flow variants).
extension Samplers {
    /// The loop of the CFG++ samplers: one guided call per sigma, then the sampler's step from
    /// the guided and unconditional predictions.
    static func steppingGuided(
        from start: Tensor, sigmas: [Float], guided: GuidedDenoiser, onStep: StepCallback,
        step: (_ step: Step, _ x: Tensor, _ denoised: Tensor, _ unconditional: Tensor) throws -> Tensor
    ) throws -> Tensor {
        var x = start
        let total = sigmas.count - 1
        guard total > 0 else { return x }
        for i in 0..<total {
            let (denoised, unconditional) = try guided(x, sigmas[i])
            x = try step(Step(i: i, sigma: sigmas[i], next: sigmas[i + 1]), x, denoised, unconditional)
            try onStep(i + 1, total, denoised)
        }
        return x
    }

    /// `get_ancestral_step` with eta (float32; eta 0: no noise).
    static func ancestralStep(from sigma: Float, to next: Float, eta: Double) -> (down: Float, up: Float) {
        guard eta != 0 else { return (next, 0) }
        let up = min(next, Float(eta) * (next * next * (sigma * sigma - next * next) / (sigma * sigma)).squareRoot())
        return ((next * next - up * up).squareRoot(), up)
    }
}

/// Euler (ancestral) CFG++: x = D·α_t + σ_down·d(uncond), plus step noise scaled by σ_up.
struct EulerAncestralCFGPP: GuidedSamplerAlgorithm {
    var eta = 1.0, sNoise = 1.0

    /// `euler_cfg_pp` is this with eta 0 and s_noise 0.
    static let plain = EulerAncestralCFGPP(eta: 0, sNoise: 0)

    var names: [SamplerName] { eta == 0 && sNoise == 0 ? [.eulerCFGPP] : [.eulerAncestralCFGPP] }

    func sample(
        guided: GuidedDenoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        try Samplers.steppingGuided(from: x, sigmas: sigmas, guided: guided, onStep: onStep) {
            step, x, denoised, uncond in
            if step.next == 0 { return denoised }
            // α = σ·e^{λ} with λ = −log σ: 1 up to float32 rounding, kept as torch computes it.
            let alphaS = step.sigma * expf(-logf(step.sigma)), alphaT = step.next * expf(-logf(step.next))
            let d = try x.subtracting(uncond.scaled(by: alphaS)).dividing(Samplers.scalar(step.sigma))
            let (down, up) = Samplers.ancestralStep(from: step.sigma / alphaS, to: step.next / alphaT, eta: eta)
            let result = try denoised.scaled(by: alphaT).adding(d.scaled(by: alphaT * down))
            guard eta > 0 && sNoise > 0 else { return result }
            return try result.adding(noise.next(like: x).scaled(by: alphaT).scaled(by: Float(sNoise)).scaled(by: up))
        }
    }
}

/// DPM-Solver++(2S) ancestral CFG++: the midpoint step on the unconditional predictions, then
/// the step's guidance (D − uncond) added back.
struct DPMPP2SAncestralCFGPP: GuidedSamplerAlgorithm {
    var eta = 1.0, sNoise = 1.0

    var names: [SamplerName] { [.dpmpp2sAncestralCFGPP] }

    func sample(
        guided: GuidedDenoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        try Samplers.steppingGuided(from: x, sigmas: sigmas, guided: guided, onStep: onStep) {
            step, x, denoised, uncond in
            let guidance = try denoised.subtracting(uncond)
            let (down, up) = Samplers.ancestralStep(from: step.sigma, to: step.next, eta: eta)
            var result: Tensor
            if down == 0 {
                result = try x.adding(Samplers.derivative(x, uncond, sigma: step.sigma).scaled(by: down - step.sigma))
            } else {
                let t = -logf(step.sigma), tNext = -logf(down)
                let h = tNext - t
                let s = t + 0.5 * h
                let midpoint = try x.scaled(by: expf(-s) / expf(-t)).subtracting(uncond.scaled(by: expm1f(-h * 0.5)))
                let uncond2 = try guided(midpoint, expf(-s)).unconditional
                result = try x.scaled(by: expf(-tNext) / expf(-t)).subtracting(uncond2.scaled(by: expm1f(-h)))
            }
            if step.next > 0 {
                result = try result.adding(noise.next(like: x).scaled(by: Float(sNoise)).scaled(by: up))
            }
            return try result.adding(guidance)
        }
    }
}

/// DPM-Solver++(2M) CFG++: the multistep correction taken from the previous unconditional
/// prediction, renoised along the current one.
struct DPMPP2MCFGPP: GuidedSamplerAlgorithm {
    var names: [SamplerName] { [.dpmpp2mCFGPP] }

    func sample(
        guided: GuidedDenoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        var previous: Tensor?
        return try Samplers.steppingGuided(from: x, sigmas: sigmas, guided: guided, onStep: onStep) {
            step, x, denoised, uncond in
            defer { previous = uncond }
            let t = -logf(step.sigma), tNext = -logf(step.next)
            let h = tNext - t
            var mix = uncond.scaled(by: -expf(-h))
            if let previous, step.next != 0 {
                let r = (t - -logf(sigmas[step.i - 1])) / h
                mix = try mix.subtracting(denoised.subtracting(previous).scaled(by: expm1f(-h) * (1 / (2 * r))))
            }
            return try denoised.adding(mix).adding(x.scaled(by: expf(-h)))
        }
    }
}

/// RES multistep CFG++, plain (eta 0) or ancestral (eta 1): `ResMultistep`'s step on the
/// unconditional predictions after adding the step's guidance; Euler from D along d(uncond)
/// on the first step and into 0.
struct ResMultistepCFGPP: GuidedSamplerAlgorithm {
    let ancestral: Bool

    var names: [SamplerName] { ancestral ? [.resMultistepAncestralCFGPP] : [.resMultistepCFGPP] }

    func sample(
        guided: GuidedDenoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        var previous: Tensor?
        var previousDown: Float = 0
        return try Samplers.steppingGuided(from: x, sigmas: sigmas, guided: guided, onStep: onStep) {
            step, x, denoised, uncond in
            let (down, up) = Samplers.ancestralStep(from: step.sigma, to: step.next, eta: ancestral ? 1 : 0)
            var result: Tensor
            if down == 0 || previous == nil {
                result = try denoised.adding(Samplers.derivative(x, uncond, sigma: step.sigma).scaled(by: down))
            } else {
                result = try ResMultistep.step(
                    x.adding(denoised.subtracting(uncond)), uncond, previous: previous, sigmas: sigmas, i: step.i,
                    sigmaDown: down, previousSigmaDown: previousDown)
            }
            // Without eta the step noise is scaled by σ_up = 0: drawing it changes nothing.
            if step.next > 0 && ancestral { result = try result.adding(noise.next(like: result).scaled(by: up)) }
            (previous, previousDown) = (uncond, down)
            return result
        }
    }
}

/// Gradient estimation CFG++ (γ = 2): x = D + d(uncond)·σ_next, plus (γ − 1)·(d − d_previous)·dt.
struct GradientEstimationCFGPP: GuidedSamplerAlgorithm {
    var names: [SamplerName] { [.gradientEstimationCFGPP] }

    func sample(
        guided: GuidedDenoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        var previousDerivative: Tensor?
        return try Samplers.steppingGuided(from: x, sigmas: sigmas, guided: guided, onStep: onStep) {
            step, x, denoised, uncond in
            let d = try Samplers.derivative(x, uncond, sigma: step.sigma)
            defer { previousDerivative = d }
            if step.next == 0 { return denoised }
            let dt = step.next - step.sigma
            let result = try denoised.adding(d.scaled(by: step.next))
            guard let old = previousDerivative else { return result }
            return try result.adding(d.subtracting(old).scaled(by: dt))
        }
    }
}
