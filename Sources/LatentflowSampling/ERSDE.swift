import Foundation
import LatentflowTensor

/// ER-SDE: the extended reverse-time SDE solver, VP ER-SDE-Solver-3 (Cui et al. 2023,
/// arXiv:2309.06169): up to third order from earlier predictions, with the noise scaler
/// λ·(λ^0.3·e + 10) whose integrals are taken over 200 points, and default step noise. For eps /
/// v-prediction models, where λ = σ / α = σ.
///
/// Matches: ComfyUI `comfy/k_diffusion/sampling.py` `sample_er_sde` (s_noise 1, max_stage 3 from
/// the menu; `SamplerER_SDE` sets them and the noise scaler).
struct ERSDE: SamplerAlgorithm {
    /// The noise scaler of the solver: ER-SDE's own, or the reverse-time SDE's λ^(eta + 1)
    /// (`SamplerER_SDE`'s "Reverse-time SDE"; its "ODE" is exponent 1 with no noise).
    enum NoiseScaler: Sendable {
        case erSDE
        case power(Double)

        func callAsFunction(_ lambda: Float) -> Float {
            switch self {
            case .erSDE: lambda * (expf(powf(lambda, 0.3)) + 10)
            case .power(let exponent): exponent == 1 ? lambda : powf(lambda, Float(exponent))
            }
        }
    }

    var noiseScaler = NoiseScaler.erSDE
    var sNoise = 1.0
    /// The highest order used (1…3).
    var maxStage = 3

    var names: [SamplerName] { [.erSDE] }

    struct State {
        var previousDenoised: Tensor?
        var previousDerivative: Tensor?
    }

    func sample(
        denoiser: Denoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        var state = State()
        return try Samplers.stepping(from: x, sigmas: sigmas, denoiser: denoiser, onStep: onStep) { step, x, denoised in
            try self.step(x, denoised, sigmas: sigmas, i: step.i, state: &state, noise: &noise)
        }
    }

    func step(
        _ x: Tensor, _ denoised: Tensor, sigmas: [Float], i: Int, state: inout State,
        noise: inout StepNoise
    ) throws -> Tensor {
        defer { state.previousDenoised = denoised }
        let next = sigmas[i + 1]
        if next == 0 { return denoised }
        // er_lambda = exp(−half_log_snr) = exp(log σ) for eps models.
        func lambda(_ k: Int) -> Float { expf(logf(sigmas[k])) }
        let stage = min(maxStage, i + 1)
        let lambdaS = lambda(i), lambdaT = lambda(i + 1)
        let alphaS = sigmas[i] / lambdaS, alphaT = next / lambdaT
        let r = noiseScaler(lambdaT) / noiseScaler(lambdaS)
        var result = try x.scaled(by: alphaT / alphaS * r).adding(denoised.scaled(by: alphaT * (1 - r)))
        if stage >= 2, let previous = state.previousDenoised {
            let dt = lambdaT - lambdaS
            let stepSize = -dt / 200
            var s: Float = 0, sU: Float = 0
            for point in 0..<200 {
                let position = lambdaT + Float(point) * stepSize
                let scaled = noiseScaler(position)
                s += 1 / scaled
                sU += (position - lambdaS) / scaled
            }
            s *= stepSize
            sU *= stepSize
            let derivative = try denoised.subtracting(previous).dividing(Samplers.scalar(lambdaS - lambda(i - 1)))
            result = try result.adding(derivative.scaled(by: alphaT * (dt + s * noiseScaler(lambdaT))))
            if stage >= 3, let previousDerivative = state.previousDerivative {
                let second = try derivative.subtracting(previousDerivative)
                    .dividing(Samplers.scalar((lambdaS - lambda(i - 2)) / 2))
                result = try result.adding(second.scaled(by: alphaT * (dt * dt / 2 + sU * noiseScaler(lambdaT))))
            }
            state.previousDerivative = derivative
        }
        guard sNoise > 0 else { return result }
        let spread = (lambdaT * lambdaT - lambdaS * lambdaS * r * r).squareRoot()
        return try result.adding(
            noise.next(like: x).scaled(by: alphaT).scaled(by: Float(sNoise)).scaled(by: spread.isNaN ? 0 : spread))
    }
}
