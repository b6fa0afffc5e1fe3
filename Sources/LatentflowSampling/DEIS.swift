import Foundation
import LatentflowTensor

/// DEIS (Zhang & Chen 2022, arXiv:2204.13902) in its "tAB" form, max order 3: a multistep method
/// on the Karras derivative whose weights integrate the Lagrange polynomials through the previous
/// steps against the exponential integrator's kernel, in the VP time t of an EDM-fitted
/// variance-preserving schedule. Euler on the first step and into σ = 0.
///
/// Matches: ComfyUI `comfy/k_diffusion/sampling.py` `sample_deis` (max_order 3, deis_mode "tab")
/// and `comfy/k_diffusion/deis.py` `edm2t` / `get_deis_coeff_list` (10,000-point Riemann sums).
struct DEIS: SamplerAlgorithm {
    static let maxOrder = 3

    var names: [SamplerName] { [.deis] }

    func sample(
        denoiser: Denoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        let coefficients = Self.coefficients(sigmas, maxOrder: Self.maxOrder)
        var history: [Tensor] = []  // previous derivatives, newest last
        return try Samplers.stepping(from: x, sigmas: sigmas, denoiser: denoiser, onStep: onStep) { step, x, denoised in
            let d = try Samplers.derivative(x, denoised, sigma: step.sigma)
            defer { history = Array((history + [d]).suffix(Self.maxOrder - 1)) }
            let order = step.next <= 0 ? 1 : min(Self.maxOrder, step.i + 1)
            guard order > 1 else { return try x.adding(d.scaled(by: step.next - step.sigma)) }
            let weights = coefficients[step.i]
            var result = try x.adding(d.scaled(by: weights[0]))
            for k in 1..<order { result = try result.adding(history[history.count - k].scaled(by: weights[k])) }
            return result
        }
    }

    /// Per step, the weights of the current and previous derivatives (empty on the first step).
    static func coefficients(_ sigmas: [Float], maxOrder: Int, points: Int = 10_000) -> [[Float]] {
        let vp = VPFit()
        let ts = sigmas.map(vp.t)
        return (0..<max(sigmas.count - 1, 0)).map { i in
            let order = min(i + 1, maxOrder)
            // The last step into σ = 0 runs Euler whatever its weights (the kernel is singular there).
            guard order > 1, sigmas[i + 1] > 0 else { return [] }
            let taus = torchLinspace(ts[i], ts[i + 1], points)
            let dtau = (ts[i + 1] - ts[i]) / Float(points)
            let previous = (0..<order).map { ts[i - $0] }
            let kernel = taus.map(vp.integrand)
            return (0..<order).map { j in
                var sum = 0.0
                for (tau, weight) in zip(taus, kernel) {
                    var poly: Float = 1
                    for k in 0..<order where k != j { poly *= (tau - previous[k]) / (previous[j] - previous[k]) }
                    sum += Double(weight * poly)
                }
                return Float(sum) * dtau
            }
        }
    }

    /// The variance-preserving schedule DEIS's tables assume, fitted to EDM's σ range
    /// (ε_s 1e-3, σ_min 0.002, σ_max 80), with torch's mix of float32 and float64 (`edm2t`).
    struct VPFit {
        let betaD: Double, betaMin: Double

        init() {
            // np.log of the float32 tensor 0.002² + 1 stays float32; that of the int64 80² + 1 is float64.
            let small = logf(Float(0.002) * Float(0.002) + 1) / Float(1e-3)
            let large = log(6401.0)
            betaD = 2 * (Double(small) - large) / (1e-3 - 1)
            betaMin = large - 0.5 * betaD
        }

        /// VP time of σ (float32, the float64 fit constants rounded to float32).
        func t(_ sigma: Float) -> Float {
            ((Float(betaMin * betaMin) + Float(2 * betaD) * logf(sigma * sigma + 1)).squareRoot() - Float(betaMin))
                / Float(betaD)
        }

        /// −½ · d log ᾱ/dτ / √(ᾱ(1 − ᾱ)), with log ᾱ(τ) = −½τ²β_d − τβ_min (`cal_intergrand`).
        func integrand(_ tau: Float) -> Float {
            let (beta0, spread) = (Float(betaMin), Float(betaD))
            let alpha = expf(-0.5 * tau * tau * spread - tau * beta0)
            let slope = -tau * spread - beta0
            return -0.5 * slope / (alpha * (1 - alpha)).squareRoot()
        }
    }
}
