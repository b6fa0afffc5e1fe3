import LatentflowTensor

/// ComfyUI's sampler names (`KSampler.SAMPLERS`), in its order.
public enum SamplerName: String, Sendable, CaseIterable {
    case euler, eulerCFGPP = "euler_cfg_pp", eulerAncestral = "euler_ancestral", eulerAncestralCFGPP = "euler_ancestral_cfg_pp"
    case heun, heunpp2, dpm2 = "dpm_2", dpm2Ancestral = "dpm_2_ancestral", lms, dpmFast = "dpm_fast", dpmAdaptive = "dpm_adaptive"
    case dpmpp2sAncestral = "dpmpp_2s_ancestral", dpmpp2sAncestralCFGPP = "dpmpp_2s_ancestral_cfg_pp", dpmppSDE = "dpmpp_sde"
    case dpmppSDEGPU = "dpmpp_sde_gpu", dpmpp2m = "dpmpp_2m", dpmpp2mCFGPP = "dpmpp_2m_cfg_pp", dpmpp2mSDE = "dpmpp_2m_sde"
    case dpmpp2mSDEGPU = "dpmpp_2m_sde_gpu", dpmpp2mSDEHeun = "dpmpp_2m_sde_heun", dpmpp2mSDEHeunGPU = "dpmpp_2m_sde_heun_gpu"
    case dpmpp3mSDE = "dpmpp_3m_sde", dpmpp3mSDEGPU = "dpmpp_3m_sde_gpu", ddpm, lcm, ipndm, ipndmV = "ipndm_v", deis
    case resMultistep = "res_multistep", resMultistepCFGPP = "res_multistep_cfg_pp", resMultistepAncestral = "res_multistep_ancestral"
    case resMultistepAncestralCFGPP = "res_multistep_ancestral_cfg_pp", gradientEstimation = "gradient_estimation"
    case gradientEstimationCFGPP = "gradient_estimation_cfg_pp", erSDE = "er_sde", seeds2 = "seeds_2", seeds3 = "seeds_3"
    case saSolver = "sa_solver", saSolverPECE = "sa_solver_pece", ddim, uniPC = "uni_pc", uniPCBH2 = "uni_pc_bh2"

    /// Samplers ComfyUI offers that Latentflow implements.
    public var isImplemented: Bool {
        [.euler, .eulerAncestral, .heun, .heunpp2, .dpm2, .dpm2Ancestral, .dpmpp2sAncestral, .dpmpp2m, .ddim, .ddpm, .lcm,
         .ipndm, .ipndmV, .gradientEstimation, .uniPC, .uniPCBH2, .lms, .resMultistep, .resMultistepAncestral,
         .erSDE, .seeds2, .seeds3].contains(self)
            || Samplers.isBrownianSDE(self)
    }
}

/// A model seen only as a function: (noisy latent, sigma) → denoised latent.
public typealias Denoiser = (_ x: Tensor, _ sigma: Float) throws -> Tensor

/// The noise ancestral and LCM samplers add between steps: a fresh PyTorch CPU generator seeded
/// with the sampling seed (+ an offset: 0 in ComfyUI up to late 2025, 1 after its PR #11528),
/// one `randn(x.shape)` per call, as `default_noise_sampler`.
public struct StepNoise {
    private var generator: TorchCPUGenerator
    /// The sampling seed itself, which seeds the SDE samplers' Brownian tree (no offset there).
    public let seed: UInt64

    public init(seed: UInt64, offset: UInt64 = 0) {
        self.seed = seed
        generator = TorchCPUGenerator(seed: seed &+ offset)
    }

    public mutating func next(like x: Tensor) throws -> Tensor { try generator.randn(x.shape) }
}

/// Samplers as pure functions over a denoiser, a starting latent and a sigma schedule.
///
/// Matches: ComfyUI `comfy/k_diffusion/sampling.py` (`sample_euler`, `sample_euler_ancestral`,
/// `sample_heun`, `sample_dpmpp_2m`, `sample_lcm`); `ddim` is `euler` without an inpaint mask.
/// The other steps: second-order and multistep ones (dpm_2, dpmpp_2s, heunpp2, ipndm, lms,
/// res_multistep, ddpm) in `SecondOrderSamplers.swift`, er_sde, seeds_2 and seeds_3 in
/// `StochasticSamplers.swift`, the Brownian-tree SDE samplers in `SDESamplers.swift`, UniPC in
/// `UniPC.swift`.
public enum Samplers {
    /// - Parameter onStep: called after each step with (step, total, denoised); may throw to cancel.
    public static func sample(_ name: SamplerName, denoiser: Denoiser, x start: Tensor, sigmas: [Float],
                              sampling: ModelSampling, noise: inout StepNoise,
                              onStep: (Int, Int, Tensor) throws -> Void = { _, _, _ in }) throws -> Tensor {
        var x = start
        let total = sigmas.count - 1
        guard total > 0 else { return x }
        if isBrownianSDE(name) {
            return try sampleBrownianSDE(name, denoiser: denoiser, x: start, sigmas: sigmas, seed: noise.seed, onStep: onStep)
        }
        if name == .uniPC || name == .uniPCBH2 {
            return try sampleUniPC(name == .uniPC ? .bh1 : .bh2, denoiser: denoiser, x: start, sigmas: sigmas, onStep: onStep)
        }
        var previousDenoised: Tensor?
        var previousDerivatives: [Tensor] = []   // newest last
        var previousSigmaDown: Float = 0
        var erSDE = ERSDEState()
        for i in 0..<total {
            let sigma = sigmas[i], next = sigmas[i + 1]
            let denoised = try denoiser(x, sigma)
            switch name {
            case .euler, .ddim:
                x = try eulerStep(x, denoised, sigma: sigma, to: next)
            case .eulerAncestral:
                let (down, up) = ancestralStep(from: sigma, to: next)
                if down == 0 {
                    x = denoised
                } else {
                    x = try eulerStep(x, denoised, sigma: sigma, to: down).adding(noise.next(like: x).scaled(by: up))
                }
            case .heun:
                let d = try derivative(x, denoised, sigma: sigma)
                let dt = next - sigma
                if next == 0 {
                    x = try x.adding(d.scaled(by: dt))
                } else {
                    let x2 = try x.adding(d.scaled(by: dt))
                    let d2 = try derivative(x2, denoiser(x2, next), sigma: next)
                    x = try x.adding(d.adding(d2).scaled(by: 0.5).scaled(by: dt))
                }
            case .dpmpp2m:
                x = try dpmpp2mStep(x, denoised, previous: previousDenoised, sigmas: sigmas, i: i)
                previousDenoised = denoised
            case .dpm2:
                x = try dpm2Step(x, denoised, sigma: sigma, to: next, denoiser: denoiser)
            case .dpm2Ancestral:
                let (down, up) = ancestralStep(from: sigma, to: next)
                x = try dpm2Step(x, denoised, sigma: sigma, to: down, denoiser: denoiser)
                if down != 0 { x = try x.adding(noise.next(like: x).scaled(by: up)) }
            case .dpmpp2sAncestral:
                let (down, up) = ancestralStep(from: sigma, to: next)
                x = try dpmpp2sStep(x, denoised, sigma: sigma, to: down, denoiser: denoiser)
                if next > 0 { x = try x.adding(noise.next(like: x).scaled(by: up)) }
            case .ddpm:
                x = try ddpmStep(x, denoised, sigma: sigma, to: next, noise: &noise)
            case .lms:
                previousDerivatives = Array((previousDerivatives + [try derivative(x, denoised, sigma: sigma)]).suffix(4))
                x = next == 0 ? denoised : try lmsStep(x, derivatives: previousDerivatives, sigmas: sigmas, i: i)
            case .resMultistep, .resMultistepAncestral:
                let (down, up) = name == .resMultistep ? (next, Float(0)) : ancestralStep(from: sigma, to: next)
                x = try resMultistepStep(x, denoised, previous: previousDenoised, sigmas: sigmas, i: i,
                                         sigmaDown: down, previousSigmaDown: previousSigmaDown)
                if next > 0 && up != 0 { x = try x.adding(noise.next(like: x).scaled(by: up)) }
                (previousDenoised, previousSigmaDown) = (denoised, down)
            case .seeds2:
                x = next == 0 ? denoised : try seeds2Step(x, denoised, sigma: sigma, to: next, denoiser: denoiser, noise: &noise)
            case .seeds3:
                x = next == 0 ? denoised : try seeds3Step(x, denoised, sigma: sigma, to: next, denoiser: denoiser, noise: &noise)
            case .erSDE:
                x = try erSDEStep(x, denoised, sigmas: sigmas, i: i, state: &erSDE, noise: &noise)
            case .heunpp2:
                x = try heunpp2Step(x, denoised, sigmas: sigmas, i: i, denoiser: denoiser)
            case .ipndm, .ipndmV:
                let d = try derivative(x, denoised, sigma: sigma)
                if next == 0 {
                    x = denoised
                } else if name == .ipndm {
                    x = try ipndmStep(x, d, history: previousDerivatives, sigma: sigma, to: next)
                } else {
                    x = try ipndmVariableStep(x, d, history: previousDerivatives, sigmas: sigmas, i: i)
                }
                previousDerivatives = Array((previousDerivatives + [d]).suffix(3))
            case .gradientEstimation:
                let d = try derivative(x, denoised, sigma: sigma)
                if next == 0 {
                    x = denoised
                } else {
                    x = try x.adding(d.scaled(by: next - sigma))
                    // ge_gamma 2: x += (gamma − 1)·(d − d_previous)·dt
                    if let old = previousDerivatives.last { x = try x.adding(d.subtracting(old).scaled(by: next - sigma)) }
                }
                previousDerivatives = [d]
            case .lcm:
                x = denoised
                if next > 0 { x = try sampling.noiseScaling(sigma: next, noise: noise.next(like: x), latent: x) }
            default:
                throw SamplingError("sampler '\(name.rawValue)' is not implemented in Latentflow yet")
            }
            try onStep(i + 1, total, denoised)
        }
        return x
    }

    /// A 0-dim tensor: dividing by one divides as torch does, where scaling by the reciprocal
    /// would round differently.
    static func scalar(_ value: Float) -> Tensor { Tensor(shape: [], repeating: value) }

    /// `(x − denoised) / σ`, the Karras ODE derivative.
    static func derivative(_ x: Tensor, _ denoised: Tensor, sigma: Float) throws -> Tensor {
        try x.subtracting(denoised).dividing(scalar(sigma))
    }

    static func eulerStep(_ x: Tensor, _ denoised: Tensor, sigma: Float, to next: Float) throws -> Tensor {
        try x.adding(derivative(x, denoised, sigma: sigma).scaled(by: next - sigma))
    }

    /// ComfyUI's `get_ancestral_step` with eta 1, in float32.
    static func ancestralStep(from sigma: Float, to next: Float) -> (down: Float, up: Float) {
        let up = min(next, (next * next * (sigma * sigma - next * next) / (sigma * sigma)).squareRoot())
        return ((next * next - up * up).squareRoot(), up)
    }

    static func dpmpp2mStep(_ x: Tensor, _ denoised: Tensor, previous: Tensor?, sigmas: [Float], i: Int) throws -> Tensor {
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

import Foundation
