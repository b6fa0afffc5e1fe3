import Foundation
import LatentflowTensor

/// The SEEDS-2, SEEDS-3 and ER-SDE stochastic solvers with default step noise.
///
/// ER-SDE: the extended reverse-time SDE solver, VP ER-SDE-Solver-3 (Cui et al. 2023, arXiv:2309.06169):
/// up to third order from earlier predictions, with the noise scaler λ·(λ^0.3·e + 10) whose
/// integrals are taken over 200 points, and default step noise. For eps / v-prediction models,
/// where λ = σ / α = σ.
///
/// SEEDS-2 / SEEDS-3 (Gonzalez et al. 2023, arXiv:2305.14267): stochastic exponential two- and
/// three-stage steps in log-SNR (r = ½; r = ⅓, ⅔), their noise draws correlated across stages.
///
/// Matches: ComfyUI `comfy/k_diffusion/sampling.py` `sample_er_sde` (s_noise 1, max_stage 3) and
/// `sample_seeds_2` (eta 1, s_noise 1, r ½) and `sample_seeds_3` (r ⅓, ⅔).
extension Samplers {
    struct ERSDEState {
        var previousDenoised: Tensor?
        var previousDerivative: Tensor?
    }

    static func erSDENoiseScaler(_ lambda: Float) -> Float { lambda * (expf(powf(lambda, 0.3)) + 10) }

    static func erSDEStep(_ x: Tensor, _ denoised: Tensor, sigmas: [Float], i: Int, state: inout ERSDEState,
                          noise: inout StepNoise) throws -> Tensor {
        defer { state.previousDenoised = denoised }
        let next = sigmas[i + 1]
        if next == 0 { return denoised }
        // er_lambda = exp(−half_log_snr) = exp(log σ) for eps models.
        func lambda(_ k: Int) -> Float { expf(logf(sigmas[k])) }
        let stage = min(3, i + 1)
        let lambdaS = lambda(i), lambdaT = lambda(i + 1)
        let alphaS = sigmas[i] / lambdaS, alphaT = next / lambdaT
        let r = erSDENoiseScaler(lambdaT) / erSDENoiseScaler(lambdaS)
        var result = try x.scaled(by: alphaT / alphaS * r).adding(denoised.scaled(by: alphaT * (1 - r)))
        if stage >= 2, let previous = state.previousDenoised {
            let dt = lambdaT - lambdaS
            let stepSize = -dt / 200
            var s: Float = 0, sU: Float = 0
            for point in 0..<200 {
                let position = lambdaT + Float(point) * stepSize
                let scaled = erSDENoiseScaler(position)
                s += 1 / scaled
                sU += (position - lambdaS) / scaled
            }
            s *= stepSize
            sU *= stepSize
            let derivative = try denoised.subtracting(previous).dividing(scalar(lambdaS - lambda(i - 1)))
            result = try result.adding(derivative.scaled(by: alphaT * (dt + s * erSDENoiseScaler(lambdaT))))
            if stage >= 3, let previousDerivative = state.previousDerivative {
                let second = try derivative.subtracting(previousDerivative).dividing(scalar((lambdaS - lambda(i - 2)) / 2))
                result = try result.adding(second.scaled(by: alphaT * (dt * dt / 2 + sU * erSDENoiseScaler(lambdaT))))
            }
            state.previousDerivative = derivative
        }
        let spread = (lambdaT * lambdaT - lambdaS * lambdaS * r * r).squareRoot()
        return try result.adding(noise.next(like: x).scaled(by: alphaT).scaled(by: spread.isNaN ? 0 : spread))
    }

    static func seeds2Step(_ x: Tensor, _ denoised: Tensor, sigma: Float, to next: Float, denoiser: Denoiser,
                           noise: inout StepNoise) throws -> Tensor {
        let r: Float = 0.5
        let lambdaS = -logf(sigma), lambdaT = -logf(next)
        let h = lambdaT - lambdaS
        let hEta = h * 2
        let lambdaS1 = midpointLerp(lambdaS, lambdaT)
        let sigmaS1 = expf(-lambdaS1)
        let alphaS1 = sigmaS1 * expf(lambdaS1), alphaT = next * expf(lambdaT)

        var x2 = try x.scaled(by: sigmaS1 / sigma * expf(-r * h)).subtracting(denoised.scaled(by: alphaS1 * expm1f(-r * hEta)))
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

    static func seeds3Step(_ x: Tensor, _ denoised: Tensor, sigma: Float, to next: Float, denoiser: Denoiser,
                           noise: inout StepNoise) throws -> Tensor {
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

        var x2 = try x.scaled(by: sigmaS1 / sigma * expf(-r1 * h)).subtracting(denoised.scaled(by: alphaS1 * hPhi1(-r1 * hEta)))
        var stageNoise = try noise.next(like: x).scaled(by: (-expm1f(-2 * r1 * h)).squareRoot())
        x2 = try x2.adding(stageNoise.scaled(by: sigmaS1))
        let denoised2 = try denoiser(x2, sigmaS1)

        let a32 = r2 / r1 * hPhi2(-r2 * hEta)
        let a31 = hPhi1(-r2 * hEta) - a32
        var x3 = try x.scaled(by: sigmaS2 / sigma * expf(-r2 * h))
            .subtracting(denoised.scaled(by: a31).adding(denoised2.scaled(by: a32)).scaled(by: alphaS2))
        var segment = (r1 - r2) * h
        stageNoise = try stageNoise.scaled(by: expf(segment)).adding(noise.next(like: x).scaled(by: (-expm1f(segment * 2)).squareRoot()))
        x3 = try x3.adding(stageNoise.scaled(by: sigmaS2))
        let denoised3 = try denoiser(x3, sigmaS2)

        let b3 = hPhi2(-hEta) / r2
        let b1 = hPhi1(-hEta) - b3
        var result = try x.scaled(by: next / sigma * expf(-h))
            .subtracting(denoised.scaled(by: b1).adding(denoised3.scaled(by: b3)).scaled(by: alphaT))
        segment = (r2 - 1) * h
        stageNoise = try stageNoise.scaled(by: expf(segment)).adding(noise.next(like: x).scaled(by: (-expm1f(segment * 2)).squareRoot()))
        result = try result.adding(stageNoise.scaled(by: next))
        return result
    }
}
