import Foundation
import LatentflowTensor

/// SA-Solver (Xue et al., NeurIPS 2023, arXiv:2309.05019): a stochastic Adams predictor-corrector
/// in half-log-SNR λ = −log σ. Each step corrects the state with the new prediction (order up to
/// 4), then predicts the next state from the last predictions (order up to 3) plus step noise
/// while σ lies in the SDE interval (τ = eta there, 0 elsewhere). PECE evaluates the model again
/// on the corrected state. Orders drop near the end when the schedule ends at 0.
///
/// Matches: ComfyUI `comfy/k_diffusion/sampling.py` `sample_sa_solver` / `sample_sa_solver_pece`
/// and `comfy/k_diffusion/sa_solver.py` (`compute_stochastic_adams_b_coeffs`,
/// `compute_exponential_coeffs`, `get_tau_interval_func`), with `SamplerSASolver`'s options.
struct SASolver: SamplerAlgorithm {
    struct Options: Sendable {
        var eta = 1.0
        /// Where the step noise is on (σ from start down to end); nil: the sampling model's
        /// sigmas at 20% and 80% of the schedule.
        var sdeSigmas: (start: Float, end: Float)?
        var sNoise = 1.0
        var predictorOrder = 3, correctorOrder = 4
        var usePECE = false
        var simpleOrder2 = false
    }
    var options = Options()

    var names: [SamplerName] { options.usePECE ? [.saSolverPECE] : [.saSolver] }

    func sample(
        denoiser: Denoiser, x start: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        let total = sigmas.count - 1
        guard total > 0 else { return start }
        let lambdas = sigmas.map { -logf($0) }
        let (startSigma, endSigma) =
            options.sdeSigmas ?? (sampling.percentToSigma(0.2), sampling.percentToSigma(0.8))
        func tau(_ sigma: Float) -> Double {
            options.eta > 0 && startSigma >= sigma && sigma >= endSigma ? options.eta : 0
        }
        let maxOrder = max(options.predictorOrder, options.correctorOrder)
        let lowerOrderToEnd = sigmas[total] == 0
        var (x, prediction) = (start, start)
        var h: Float = 0, tauT = 0.0
        var stepNoise: Tensor?
        var predictions: [Tensor] = []
        for i in 0..<total {
            var denoised = try denoiser(prediction, sigmas[i])
            try onStep(i + 1, total, denoised)
            predictions = Array((predictions + [denoised]).suffix(maxOrder))
            var predictorOrder = min(options.predictorOrder, predictions.count)
            var correctorOrder =
                i == 0 || (sigmas[i + 1] == 0 && !options.usePECE) ? 0 : min(options.correctorOrder, predictions.count)
            if lowerOrderToEnd {
                predictorOrder = min(predictorOrder, total - 1 - i)
                correctorOrder = min(correctorOrder, total - i)
            }
            if correctorOrder == 0 {
                x = prediction
            } else {
                let b = try coefficients(
                    sigmaNext: sigmas[i], lambdas: Array(lambdas[(i - correctorOrder + 1)...i]),
                    from: lambdas[i - 1], to: lambdas[i], tau: tauT, corrector: true)
                x = try x.scaled(by: sigmas[i] / sigmas[i - 1] * expf(Float(-(tauT * tauT)) * h))
                    .adding(Self.combine(predictions.suffix(correctorOrder), b))
                if tauT > 0 && options.sNoise > 0, let stepNoise { x = try x.adding(stepNoise) }
                if options.usePECE {
                    denoised = try denoiser(x, sigmas[i])
                    predictions[predictions.count - 1] = denoised
                }
            }
            if sigmas[i + 1] == 0 {
                prediction = denoised
                continue
            }
            tauT = tau(sigmas[i + 1])
            let b = try coefficients(
                sigmaNext: sigmas[i + 1], lambdas: Array(lambdas[(i - predictorOrder + 1)...i]),
                from: lambdas[i], to: lambdas[i + 1], tau: tauT, corrector: false)
            h = lambdas[i + 1] - lambdas[i]
            prediction = try x.scaled(by: sigmas[i + 1] / sigmas[i] * expf(Float(-(tauT * tauT)) * h))
                .adding(Self.combine(predictions.suffix(predictorOrder), b))
            if tauT > 0 && options.sNoise > 0 {
                // torch scales the noise tensor factor by factor, left to right.
                let spread = (-expm1f(Float(-2 * tauT * tauT) * h)).squareRoot()
                let scaled = try noise.next(like: x).scaled(by: sigmas[i + 1]).scaled(by: spread)
                    .scaled(by: Float(options.sNoise))
                stepNoise = scaled
                prediction = try prediction.adding(scaled)
            }
        }
        return prediction
    }

    /// Σ_k predictions[k]·b[k], oldest first (`tensordot` over the stacked predictions).
    static func combine(_ predictions: ArraySlice<Tensor>, _ b: [Float]) throws -> Tensor {
        var result: Tensor?
        for (prediction, weight) in zip(predictions, b) {
            let term = prediction.scaled(by: weight)
            result = try result.map { try $0.adding(term) } ?? term
        }
        guard let result else { throw SamplingError("sa_solver: a step of order 0") }
        return result
    }

    /// The stochastic Adams weights b_i of the predictions at `lambdas` for the step from λ_s to
    /// λ_t: α_t times the integrals of their Lagrange basis against the exponential kernel.
    func coefficients(
        sigmaNext: Float, lambdas: [Float], from lambdaS: Float, to lambdaT: Float, tau: Double, corrector: Bool
    ) throws -> [Float] {
        let alphaT = sigmaNext * expf(lambdaT)
        let tauMul = 1 + tau * tau
        let h = lambdaT - lambdaS
        if options.simpleOrder2 && lambdas.count == 2 {
            // The paper's simplified order-2 pair (Appendix D).
            let full = alphaT * -expm1f(-h * Float(tauMul))
            if corrector {
                let b1 = alphaT * (0.5 * Float(tauMul) * h)
                return [full - b1, b1]
            }
            let b2 = alphaT * (0.5 * Float(tauMul) * h * h) / (lambdas[0] - lambdaS)
            return [b2, full - b2]
        }
        let integrals = Self.exponentialIntegrals(from: lambdaS, to: lambdaT, order: lambdas.count, tauMul: tauMul)
        // Vandermonde transpose system: Σ_a λ_a^p · L_a = integral_p.
        let n = lambdas.count
        let matrix = (0..<n).map { p in lambdas.map { Double(powf($0, Float(p))) } }
        guard let lagrange = Self.solve(matrix, integrals.map(Double.init)) else {
            throw SamplingError("sa_solver: the step's Vandermonde system is singular (repeated sigmas \(lambdas))")
        }
        return lagrange.map { alphaT * Float($0) }
    }

    /// (1 + τ²)∫_s^t e^{(1+τ²)(x−t)} x^p dx for p < order, by repeated integration by parts.
    static func exponentialIntegrals(from s: Float, to t: Float, order: Int, tauMul: Double) -> [Float] {
        let decay = expf(Float(-tauMul) * (t - s))
        let products = (0..<order).map { p in powf(t, Float(p)) - powf(s, Float(p)) * decay }
        let logTauMul = Float(log(tauMul))
        return (0..<order).map { i in
            var sum: Float = 0
            for j in 0...i {
                var logWeight = lgammaf(Float(i + 1)) - lgammaf(Float(j + 1))
                if tauMul > 1 { logWeight -= Float(i - j) * logTauMul }
                sum += expf(logWeight) * ((i - j) % 2 == 0 ? 1 : -1) * products[j]
            }
            return sum
        }
    }

    /// Gaussian elimination with partial pivoting; nil when singular.
    static func solve(_ matrix: [[Double]], _ rhs: [Double]) -> [Double]? {
        var a = matrix, b = rhs
        let n = b.count
        for column in 0..<n {
            guard let pivot = (column..<n).max(by: { abs(a[$0][column]) < abs(a[$1][column]) }),
                a[pivot][column] != 0
            else { return nil }
            a.swapAt(column, pivot)
            b.swapAt(column, pivot)
            for row in (column + 1)..<n {
                let factor = a[row][column] / a[column][column]
                for k in column..<n { a[row][k] -= factor * a[column][k] }
                b[row] -= factor * b[column]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for row in stride(from: n - 1, through: 0, by: -1) {
            var value = b[row]
            for k in (row + 1)..<n { value -= a[row][k] * x[k] }
            x[row] = value / a[row][row]
        }
        return x
    }
}
