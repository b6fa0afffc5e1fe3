import Foundation
import LatentflowTensor

/// DPM-Solver++(2M) SDE (midpoint or heun correction) and (3M) SDE: the exponential integrator
/// (eta 1: the full SDE, 0: the ODE) plus multistep corrections from earlier predictions, and
/// Brownian-tree noise seeded with the sampling seed; the denoised prediction into σ = 0. Scalars
/// are float32 as ComfyUI's 0-dim tensors are; the `_gpu` variants are the same on CPU.
///
/// Matches: ComfyUI `comfy/k_diffusion/sampling.py` `sample_dpmpp_2m_sde` (solver_type midpoint),
/// `sample_dpmpp_2m_sde_heun` (heun) and `sample_dpmpp_3m_sde` (eta 1, s_noise 1 from the menu;
/// `SamplerDPMPP_2M_SDE` / `SamplerDPMPP_3M_SDE` set them), for eps / v-prediction models
/// (half-log-SNR λ = −log σ).
struct DPMPPMultistepSDE: SamplerAlgorithm {
    enum Correction { case midpoint, heun, thirdOrder }
    let correction: Correction
    /// The stochastic share of each step (0: the ODE solver) and the noise's scale.
    var eta = 1.0, sNoise = 1.0

    var names: [SamplerName] {
        switch correction {
        case .midpoint: [.dpmpp2mSDE, .dpmpp2mSDEGPU]
        case .heun: [.dpmpp2mSDEHeun, .dpmpp2mSDEHeunGPU]
        case .thirdOrder: [.dpmpp3mSDE, .dpmpp3mSDEGPU]
        }
    }

    /// Previous denoised predictions and log-SNR steps, newest first; h carries over a final
    /// denoising step unchanged, as in ComfyUI.
    struct History {
        var denoised: [Tensor] = []
        var h: [Float?] = [nil, nil, nil]

        mutating func push(denoised latest: Tensor) {
            denoised = Array(([latest] + denoised).prefix(2))
            h = [h[0], h[0], h[1]]
        }
    }

    func sample(
        denoiser: Denoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        let treeNoise = try BrownianTreeNoise(shape: x.shape, sigmas: sigmas, seed: noise.seed)
        var history = History()
        return try Samplers.stepping(from: x, sigmas: sigmas, denoiser: denoiser, onStep: onStep) { step, x, denoised in
            defer { history.push(denoised: denoised) }
            if step.next == 0 { return denoised }
            return try self.step(x, denoised, sigma: step.sigma, next: step.next, history: &history, noise: treeNoise)
        }
    }

    func step(
        _ x: Tensor, _ denoised: Tensor, sigma: Float, next: Float, history: inout History,
        noise: BrownianTreeNoise
    ) throws -> Tensor {
        let lambdaS = -logf(sigma), lambdaT = -logf(next)
        let h = lambdaT - lambdaS
        let hEta = h * Float(eta + 1)
        let alphaT = next * expf(lambdaT)
        let decay = -expm1f(-hEta)
        var result = try x.scaled(by: next / sigma * expf(-h * Float(eta))).adding(denoised.scaled(by: alphaT * decay))
        history.h[0] = h
        let older = history.denoised
        if correction == .thirdOrder, older.count == 2, let h1 = history.h[1], let h2 = history.h[2] {
            let r0 = h1 / h, r1 = h2 / h
            let d10 = try denoised.subtracting(older[0]).dividing(Samplers.scalar(r0))
            let d11 = try older[0].subtracting(older[1]).dividing(Samplers.scalar(r1))
            let gap = try d10.subtracting(d11)
            let d1 = try d10.adding(gap.scaled(by: r0).dividing(Samplers.scalar(r0 + r1)))
            let d2 = try gap.dividing(Samplers.scalar(r0 + r1))
            let phi2 = expm1f(-hEta) / hEta + 1
            let phi3 = phi2 / hEta - 0.5
            result = try result.adding(d1.scaled(by: alphaT * phi2)).subtracting(d2.scaled(by: alphaT * phi3))
        } else if let previous = older.first, let h1 = history.h[1] {
            let r = h1 / h
            let difference = try denoised.subtracting(previous)
            switch correction {
            case .heun:
                result = try result.adding(difference.scaled(by: alphaT * (decay / -hEta + 1) * (1 / r)))
            case .thirdOrder:
                let phi2 = expm1f(-hEta) / hEta + 1
                result = try result.adding(difference.dividing(Samplers.scalar(r)).scaled(by: alphaT * phi2))
            case .midpoint:
                result = try result.adding(difference.scaled(by: 0.5 * alphaT * decay * (1 / r)))
            }
        }
        guard eta > 0, sNoise > 0 else { return result }
        let noiseScale = (-expm1f(-2 * h * Float(eta))).squareRoot()
        return try result.adding(
            noise(from: sigma, to: next).scaled(by: next).scaled(by: noiseScale).scaled(by: Float(sNoise)))
    }
}
