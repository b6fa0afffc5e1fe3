import Foundation
import LatentflowTensor

/// SEEDS-2 / SEEDS-3 (Gonzalez et al. 2023, arXiv:2305.14267): stochastic exponential two- and
/// three-stage steps in log-SNR (r = ½; r = ⅓, ⅔), their noise draws correlated across stages,
/// with default step noise; the denoised prediction into σ = 0.
///
/// Matches: ComfyUI `comfy/k_diffusion/sampling.py` `sample_seeds_2` (eta 1, s_noise 1, r ½) and
/// `sample_seeds_3` (r ⅓, ⅔).
struct SEEDS: SamplerAlgorithm {
    /// 2 or 3.
    let stages: Int

    var names: [SamplerName] { stages == 2 ? [.seeds2] : [.seeds3] }

    func sample(
        denoiser: Denoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        try Samplers.stepping(from: x, sigmas: sigmas, denoiser: denoiser, onStep: onStep) { step, x, denoised in
            if step.next == 0 { return denoised }
            if stages == 2 {
                return try Self.twoStageStep(
                    x, denoised, sigma: step.sigma, to: step.next, denoiser: denoiser,
                    noise: &noise)
            }
            return try Self.threeStageStep(
                x, denoised, sigma: step.sigma, to: step.next, denoiser: denoiser,
                noise: &noise)
        }
    }

    static func twoStageStep(
        _ x: Tensor, _ denoised: Tensor, sigma: Float, to next: Float, denoiser: Denoiser,
        noise: inout StepNoise
    ) throws -> Tensor {
        let r: Float = 0.5
        let lambdaS = -logf(sigma), lambdaT = -logf(next)
        let h = lambdaT - lambdaS
        let hEta = h * 2
        let lambdaS1 = Samplers.midpointLerp(lambdaS, lambdaT)
        let sigmaS1 = expf(-lambdaS1)
        let alphaS1 = sigmaS1 * expf(lambdaS1), alphaT = next * expf(lambdaT)

        var x2 = try x.scaled(by: sigmaS1 / sigma * expf(-r * h))
            .subtracting(denoised.scaled(by: alphaS1 * expm1f(-r * hEta)))
        var stageNoise = try noise.next(like: x).scaled(by: (-expm1f(-2 * r * h)).squareRoot())
        x2 = try x2.adding(stageNoise.scaled(by: sigmaS1))
        // lerp(denoised, denoised_2, 1 / (2r) = 1) is denoised_2.
        let denoised2 = try denoiser(x2, sigmaS1)

        var result = try x.scaled(by: next / sigma * expf(-h)).subtracting(denoised2.scaled(by: alphaT * expm1f(-hEta)))
        let segment = (r - 1) * h
        stageNoise = try stageNoise.scaled(by: expf(segment))
            .adding(noise.next(like: x).scaled(by: (-expm1f(segment * 2)).squareRoot()))
        result = try result.adding(stageNoise.scaled(by: next))
        return result
    }

    static func threeStageStep(
        _ x: Tensor, _ denoised: Tensor, sigma: Float, to next: Float, denoiser: Denoiser,
        noise: inout StepNoise
    ) throws -> Tensor {
        let r1 = Float(1.0 / 3), r2 = Float(2.0 / 3)
        func hPhi1(_ h: Float) -> Float { expm1f(h) }
        func hPhi2(_ h: Float) -> Float { (expm1f(h) - h) / h }
        let lambdaS = -logf(sigma), lambdaT = -logf(next)
        let h = lambdaT - lambdaS
        let hEta = h * 2
        // torch.lerp: weights below ½ from the start, from ½ up from the end.
        let lambdaS1 = lambdaS + r1 * (lambdaT - lambdaS), lambdaS2 = lambdaT - (lambdaT - lambdaS) * (1 - r2)
        let sigmaS1 = expf(-lambdaS1), sigmaS2 = expf(-lambdaS2)
        let alphaS1 = sigmaS1 * expf(lambdaS1), alphaS2 = sigmaS2 * expf(lambdaS2), alphaT = next * expf(lambdaT)

        var x2 = try x.scaled(by: sigmaS1 / sigma * expf(-r1 * h))
            .subtracting(denoised.scaled(by: alphaS1 * hPhi1(-r1 * hEta)))
        var stageNoise = try noise.next(like: x).scaled(by: (-expm1f(-2 * r1 * h)).squareRoot())
        x2 = try x2.adding(stageNoise.scaled(by: sigmaS1))
        let denoised2 = try denoiser(x2, sigmaS1)

        let a32 = r2 / r1 * hPhi2(-r2 * hEta)
        let a31 = hPhi1(-r2 * hEta) - a32
        var x3 = try x.scaled(by: sigmaS2 / sigma * expf(-r2 * h))
            .subtracting(denoised.scaled(by: a31).adding(denoised2.scaled(by: a32)).scaled(by: alphaS2))
        var segment = (r1 - r2) * h
        stageNoise = try stageNoise.scaled(by: expf(segment))
            .adding(noise.next(like: x).scaled(by: (-expm1f(segment * 2)).squareRoot()))
        x3 = try x3.adding(stageNoise.scaled(by: sigmaS2))
        let denoised3 = try denoiser(x3, sigmaS2)

        let b3 = hPhi2(-hEta) / r2
        let b1 = hPhi1(-hEta) - b3
        var result = try x.scaled(by: next / sigma * expf(-h))
            .subtracting(denoised.scaled(by: b1).adding(denoised3.scaled(by: b3)).scaled(by: alphaT))
        segment = (r2 - 1) * h
        stageNoise = try stageNoise.scaled(by: expf(segment))
            .adding(noise.next(like: x).scaled(by: (-expm1f(segment * 2)).squareRoot()))
        result = try result.adding(stageNoise.scaled(by: next))
        return result
    }
}
