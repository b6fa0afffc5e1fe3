import Foundation
import LatentflowTensor

/// The DPM-Solver++ SDE samplers, whose noise comes from a Brownian tree seeded with the sampling
/// seed, so that the same seed gives the same image whatever the step count's subdivisions.
/// Scalars are float32 as ComfyUI's 0-dim tensors are; the `_gpu` variants are the same on CPU.
///
/// Matches: ComfyUI `comfy/k_diffusion/sampling.py` (`sample_dpmpp_sde`, `sample_dpmpp_2m_sde`,
/// `sample_dpmpp_2m_sde_heun`, `sample_dpmpp_3m_sde`, `get_ancestral_step`) with eta 1, s_noise 1,
/// for eps / v-prediction models (half-log-SNR λ = −log σ).
extension Samplers {
    static func isBrownianSDE(_ name: SamplerName) -> Bool {
        [.dpmppSDE, .dpmppSDEGPU, .dpmpp2mSDE, .dpmpp2mSDEGPU, .dpmpp2mSDEHeun, .dpmpp2mSDEHeunGPU,
         .dpmpp3mSDE, .dpmpp3mSDEGPU].contains(name)
    }

    static func sampleBrownianSDE(_ name: SamplerName, denoiser: Denoiser, x start: Tensor, sigmas: [Float], seed: UInt64,
                                  onStep: (Int, Int, Tensor) throws -> Void) throws -> Tensor {
        let noise = try BrownianTreeNoise(shape: start.shape, sigmas: sigmas, seed: seed)
        var x = start
        let total = sigmas.count - 1
        var history = MultistepHistory()
        for i in 0..<total {
            let sigma = sigmas[i], next = sigmas[i + 1]
            let denoised = try denoiser(x, sigma)
            if next == 0 {
                x = denoised
            } else {
                switch name {
                case .dpmppSDE, .dpmppSDEGPU:
                    x = try dpmppSDEStep(x, denoised, sigma: sigma, next: next, denoiser: denoiser, noise: noise)
                case .dpmpp2mSDE, .dpmpp2mSDEGPU, .dpmpp2mSDEHeun, .dpmpp2mSDEHeunGPU, .dpmpp3mSDE, .dpmpp3mSDEGPU:
                    x = try dpmppMultistepSDEStep(name, x, denoised, sigma: sigma, next: next, history: &history, noise: noise)
                default:
                    throw SamplingError("sampler '\(name.rawValue)' is not an SDE sampler")
                }
            }
            history.push(denoised: denoised)
            try onStep(i + 1, total, denoised)
        }
        return x
    }

    /// Previous denoised predictions and log-SNR steps, newest first; h carries over a final
    /// denoising step unchanged, as in ComfyUI.
    struct MultistepHistory {
        var denoised: [Tensor] = []
        var h: [Float?] = [nil, nil, nil]

        mutating func push(denoised latest: Tensor) {
            denoised = Array(([latest] + denoised).prefix(2))
            h = [h[0], h[0], h[1]]
        }
    }

    /// `get_ancestral_step(σ_from, σ_to, eta=1)`.
    static func ancestralSplit(from: Float, to: Float) -> (down: Float, up: Float) {
        let up = min(to, (to * to * (from * from - to * to) / (from * from)).squareRoot())
        return ((to * to - up * up).squareRoot(), up)
    }

    /// One DPM-Solver++ (stochastic) step: a half step in λ to an intermediate prediction, then
    /// the full step with it, each adding tree noise scaled by the ancestral σ_up.
    static func dpmppSDEStep(_ x: Tensor, _ denoised: Tensor, sigma: Float, next: Float, denoiser: Denoiser,
                             noise: BrownianTreeNoise) throws -> Tensor {
        let r: Float = 0.5
        let lambdaS = -logf(sigma), lambdaT = -logf(next)
        let h = lambdaT - lambdaS
        let lambdaS1 = lambdaS + r * h
        let sigmaS1 = expf(-lambdaS1)
        let alphaS = sigma * expf(lambdaS), alphaS1 = sigmaS1 * expf(lambdaS1), alphaT = next * expf(lambdaT)

        // Step 1, to σ_s1.
        var (down, up) = ancestralSplit(from: expf(-lambdaS), to: expf(-lambdaS1))
        var hStep = -logf(down) - lambdaS
        var x2 = try x.scaled(by: alphaS1 / alphaS * expf(-hStep)).subtracting(denoised.scaled(by: alphaS1 * expm1f(-hStep)))
        x2 = try x2.adding(noise(from: sigma, to: sigmaS1).scaled(by: alphaS1).scaled(by: up))
        let denoised2 = try denoiser(x2, sigmaS1)

        // Step 2, to σ_next, with the intermediate prediction (fac = 1 / (2r) = 1 keeps only it).
        (down, up) = ancestralSplit(from: expf(-lambdaS), to: expf(-lambdaT))
        hStep = -logf(down) - lambdaS
        let result = try x.scaled(by: alphaT / alphaS * expf(-hStep)).subtracting(denoised2.scaled(by: alphaT * expm1f(-hStep)))
        return try result.adding(noise(from: sigma, to: next).scaled(by: alphaT).scaled(by: up))
    }

    /// DPM-Solver++(2M) SDE (midpoint or heun correction) and (3M) SDE: the exponential
    /// integrator with eta 1 plus multistep corrections from earlier predictions.
    static func dpmppMultistepSDEStep(_ name: SamplerName, _ x: Tensor, _ denoised: Tensor, sigma: Float, next: Float,
                                      history: inout MultistepHistory, noise: BrownianTreeNoise) throws -> Tensor {
        let lambdaS = -logf(sigma), lambdaT = -logf(next)
        let h = lambdaT - lambdaS
        let hEta = h * 2
        let alphaT = next * expf(lambdaT)
        let decay = -expm1f(-hEta)
        var result = try x.scaled(by: next / sigma * expf(-h)).adding(denoised.scaled(by: alphaT * decay))
        history.h[0] = h
        let older = history.denoised
        let thirdOrder = name == .dpmpp3mSDE || name == .dpmpp3mSDEGPU
        if thirdOrder, older.count == 2, let h1 = history.h[1], let h2 = history.h[2] {
            let r0 = h1 / h, r1 = h2 / h
            let d10 = try denoised.subtracting(older[0]).dividing(scalar(r0))
            let d11 = try older[0].subtracting(older[1]).dividing(scalar(r1))
            let gap = try d10.subtracting(d11)
            let d1 = try d10.adding(gap.scaled(by: r0).dividing(scalar(r0 + r1)))
            let d2 = try gap.dividing(scalar(r0 + r1))
            let phi2 = expm1f(-hEta) / hEta + 1
            let phi3 = phi2 / hEta - 0.5
            result = try result.adding(d1.scaled(by: alphaT * phi2)).subtracting(d2.scaled(by: alphaT * phi3))
        } else if let previous = older.first, let h1 = history.h[1] {
            let r = h1 / h
            let difference = try denoised.subtracting(previous)
            switch name {
            case .dpmpp2mSDEHeun, .dpmpp2mSDEHeunGPU:
                result = try result.adding(difference.scaled(by: alphaT * (decay / -hEta + 1) * (1 / r)))
            case .dpmpp3mSDE, .dpmpp3mSDEGPU:
                let phi2 = expm1f(-hEta) / hEta + 1
                result = try result.adding(difference.dividing(scalar(r)).scaled(by: alphaT * phi2))
            default:
                result = try result.adding(difference.scaled(by: 0.5 * alphaT * decay * (1 / r)))
            }
        }
        let noiseScale = (-expm1f(-2 * h)).squareRoot()
        return try result.adding(noise(from: sigma, to: next).scaled(by: next).scaled(by: noiseScale))
    }

}
