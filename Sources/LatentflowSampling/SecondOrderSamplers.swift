import Foundation
import LatentflowTensor

/// DPM-Solver-2 (plain and ancestral), DPM-Solver++(2S) ancestral, DDPM, Heun++, iPNDM and LMS steps,
/// with scalars in float32 as ComfyUI's 0-dim tensors are.
///
/// Matches: ComfyUI `comfy/k_diffusion/sampling.py` (`sample_dpm_2` with s_churn 0,
/// `sample_dpm_2_ancestral`, `sample_dpmpp_2s_ancestral`, `sample_ddpm` / `DDPMSampler_step`,
/// `sample_heunpp2`, `sample_ipndm` / `sample_ipndm_v` with max_order 4, `res_multistep` (eta 0
/// and, for the ancestral variant, 1), `sample_lms` with order 4 and
/// `linear_multistep_coeff`) with eta 1 and s_noise 1, for eps / v-prediction models.
extension Samplers {
    /// torch's `lerp(a, b, 0.5)`: weights from 0.5 up are computed from the end.
    static func midpointLerp(_ a: Float, _ b: Float) -> Float { b - (b - a) * 0.5 }

    /// A DPM-Solver-2 step from σ to `target` (Euler when `target` is 0): an Euler half step to
    /// the geometric midpoint, then the full step with the derivative found there.
    static func dpm2Step(_ x: Tensor, _ denoised: Tensor, sigma: Float, to target: Float, denoiser: Denoiser) throws -> Tensor {
        let d = try derivative(x, denoised, sigma: sigma)
        if target == 0 { return try x.adding(d.scaled(by: target - sigma)) }
        let mid = expf(midpointLerp(logf(sigma), logf(target)))
        let x2 = try x.adding(d.scaled(by: mid - sigma))
        let d2 = try derivative(x2, denoiser(x2, mid), sigma: mid)
        return try x.adding(d2.scaled(by: target - sigma))
    }

    /// A DPM-Solver++(2S) step from σ to `target` (Euler when `target` is 0), half way in
    /// log-SNR first.
    static func dpmpp2sStep(_ x: Tensor, _ denoised: Tensor, sigma: Float, to target: Float, denoiser: Denoiser) throws -> Tensor {
        if target == 0 { return try x.adding(derivative(x, denoised, sigma: sigma).scaled(by: target - sigma)) }
        let t = -logf(sigma), tNext = -logf(target)
        let h = tNext - t
        let s = t + 0.5 * h
        let x2 = try x.scaled(by: expf(-s) / expf(-t)).subtracting(denoised.scaled(by: expm1f(-h * 0.5)))
        let denoised2 = try denoiser(x2, expf(-s))
        return try x.scaled(by: expf(-tNext) / expf(-t)).subtracting(denoised2.scaled(by: expm1f(-h)))
    }

    /// One DDPM ancestral step in the variance-preserving frame: x is rescaled by
    /// 1/sqrt(1 + σ²) in and sqrt(1 + σ_next²) out.
    static func ddpmStep(_ x: Tensor, _ denoised: Tensor, sigma: Float, to next: Float, noise: inout StepNoise) throws -> Tensor {
        let eps = try derivative(x, denoised, sigma: sigma)
        let scaledX = try x.dividing(scalar((1 + sigma * sigma).squareRoot()))
        let alphaCumprod = 1 / (sigma * sigma + 1), alphaCumprodPrevious = 1 / (next * next + 1)
        let alpha = alphaCumprod / alphaCumprodPrevious
        var mu = try scaledX.subtracting(eps.scaled(by: (1 - alpha) / (1 - alphaCumprod).squareRoot()))
            .scaled(by: (1 / alpha).squareRoot())
        if next > 0 {
            let spread = ((1 - alpha) * (1 - alphaCumprodPrevious) / (1 - alphaCumprod)).squareRoot()
            mu = try mu.adding(noise.next(like: x).scaled(by: spread))
            mu = mu.scaled(by: (1 + next * next).squareRoot())
        }
        return mu
    }

    /// Heun++: Euler into the last step, Heun with σ-weighted derivatives before it, and a
    /// three-point weighting earlier on.
    static func heunpp2Step(_ x: Tensor, _ denoised: Tensor, sigmas: [Float], i: Int, denoiser: Denoiser) throws -> Tensor {
        let sigma = sigmas[i], next = sigmas[i + 1], end = sigmas[sigmas.count - 1]
        let d = try derivative(x, denoised, sigma: sigma)
        let dt = next - sigma
        if next == end { return try x.adding(d.scaled(by: dt)) }
        let x2 = try x.adding(d.scaled(by: dt))
        let d2 = try derivative(x2, denoiser(x2, next), sigma: next)
        if sigmas[i + 2] == end {
            let w2 = next / (2 * sigmas[0]), w1 = 1 - w2
            return try x.adding(d.scaled(by: w1).adding(d2.scaled(by: w2)).scaled(by: dt))
        }
        let after = sigmas[i + 2]
        let x3 = try x2.adding(d2.scaled(by: after - next))
        let d3 = try derivative(x3, denoiser(x3, after), sigma: after)
        let w2 = next / (3 * sigmas[0]), w3 = after / (3 * sigmas[0]), w1 = 1 - w2 - w3
        return try x.adding(d.scaled(by: w1).adding(d2.scaled(by: w2)).adding(d3.scaled(by: w3)).scaled(by: dt))
    }

    /// iPNDM: Adams–Bashforth over up to three earlier derivatives (oldest first in `history`).
    static func ipndmStep(_ x: Tensor, _ d: Tensor, history: [Tensor], sigma: Float, to next: Float) throws -> Tensor {
        let combined: Tensor
        switch history.count {
        case 0: combined = d
        case 1: combined = try d.scaled(by: 3).subtracting(history[0]).scaled(by: 1 / 2)
        case 2: combined = try d.scaled(by: 23).subtracting(history[1].scaled(by: 16)).adding(history[0].scaled(by: 5)).scaled(by: 1 / 12)
        default:
            let h = history.suffix(3).map { $0 }
            combined = try d.scaled(by: 55).subtracting(h[2].scaled(by: 59)).adding(h[1].scaled(by: 37))
                .subtracting(h[0].scaled(by: 9)).scaled(by: 1 / 24)
        }
        return try x.adding(combined.scaled(by: next - sigma))
    }

    /// iPNDM with variable steps: the Adams–Bashforth weights recomputed from the actual sigma
    /// gaps (history oldest first).
    static func ipndmVariableStep(_ x: Tensor, _ d: Tensor, history: [Tensor], sigmas: [Float], i: Int) throws -> Tensor {
        let t = sigmas
        let hn = t[i + 1] - t[i]
        let weights: [Float]
        switch history.count {
        case 0:
            weights = [1]
        case 1:
            let h1 = t[i] - t[i - 1]
            weights = [(2 + hn / h1) / 2, -(hn / h1) / 2]
        case 2:
            let h1 = t[i] - t[i - 1], h2 = t[i - 1] - t[i - 2]
            let temp = (1 - hn / (3 * (hn + h1)) * (hn * (hn + h1)) / (h1 * (h1 + h2))) / 2
            weights = [(2 + hn / h1) / 2 + temp, -(hn / h1) / 2 - (1 + h1 / h2) * temp, temp * h1 / h2]
        default:
            let h1 = t[i] - t[i - 1], h2 = t[i - 1] - t[i - 2], h3 = t[i - 2] - t[i - 3]
            let temp1 = (1 - hn / (3 * (hn + h1)) * (hn * (hn + h1)) / (h1 * (h1 + h2))) / 2
            let temp2 = ((1 - hn / (3 * (hn + h1))) / 2 + (1 - hn / (2 * (hn + h1))) * hn / (6 * (hn + h1 + h2)))
                * (hn * (hn + h1) * (hn + h1 + h2)) / (h1 * (h1 + h2) * (h1 + h2 + h3))
            let ratio = h1 * (h1 + h2) / (h2 * (h2 + h3))
            weights = [(2 + hn / h1) / 2 + temp1 + temp2,
                       -(hn / h1) / 2 - (1 + h1 / h2) * temp1 - (1 + h1 / h2 + ratio) * temp2,
                       temp1 * h1 / h2 + (h1 / h2 + ratio * (1 + h2 / h3)) * temp2,
                       -temp2 * ratio * h1 / h2]
        }
        // weights[0] goes with d, weights[k] with the k-th newest earlier derivative.
        var combined = d.scaled(by: weights[0])
        for (k, weight) in weights.dropFirst().enumerated() {
            combined = try combined.adding(history[history.count - 1 - k].scaled(by: weight))
        }
        return try x.adding(combined.scaled(by: hn))
    }

    /// The RES second-order multistep step (Zhang et al. 2023, arXiv:2308.02157) to σ_down, Euler
    /// on the first step and into 0.
    static func resMultistepStep(_ x: Tensor, _ denoised: Tensor, previous: Tensor?, sigmas: [Float], i: Int,
                                 sigmaDown: Float, previousSigmaDown: Float) throws -> Tensor {
        let sigma = sigmas[i]
        guard sigmaDown != 0, let previous else {
            return try x.adding(derivative(x, denoised, sigma: sigma).scaled(by: sigmaDown - sigma))
        }
        let t = -logf(sigma), tOld = -logf(previousSigmaDown), tNext = -logf(sigmaDown), tPrevious = -logf(sigmas[i - 1])
        let h = tNext - t
        let c2 = (tPrevious - tOld) / h
        let phi1 = expm1f(-h) / -h
        let phi2 = (phi1 - 1) / -h
        func zeroIfNaN(_ v: Float) -> Float { v.isNaN ? 0 : v }
        let b1 = zeroIfNaN(phi1 - phi2 / c2), b2 = zeroIfNaN(phi2 / c2)
        let update = try denoised.scaled(by: b1).adding(previous.scaled(by: b2)).scaled(by: h)
        return try x.scaled(by: expf(-h)).adding(update)
    }

    /// Linear multistep (order up to 4): the derivatives (oldest first) weighted by the integrals
    /// over [σ_i, σ_i+1] of their Lagrange basis polynomials in σ. Matches: Katherine Crowson's
    /// k-diffusion `sample_lms`.
    static func lmsStep(_ x: Tensor, derivatives: [Tensor], sigmas: [Float], i: Int) throws -> Tensor {
        let order = derivatives.count
        var result = x
        var sum: Tensor?
        for (j, d) in derivatives.reversed().enumerated() {
            let term = d.scaled(by: Float(linearMultistepCoefficient(order: order, sigmas: sigmas, i: i, j: j)))
            sum = try sum.map { try $0.adding(term) } ?? term
        }
        if let sum { result = try result.adding(sum) }
        return result
    }

    /// ∫ from σ_i to σ_i+1 of Π_{k≠j} (τ − σ_{i−k}) / (σ_{i−j} − σ_{i−k}) dτ as ComfyUI gets it:
    /// `scipy.integrate.quad` settles on its first 21-point Gauss–Kronrod pass for these
    /// polynomials, and under NumPy 2's promotion rules the integrand is evaluated in float32
    /// (τ meets float32 sigmas), the sum in double. Reproduced node for node.
    static func linearMultistepCoefficient(order: Int, sigmas: [Float], i: Int, j: Int) -> Double {
        func basis(_ tau: Double) -> Double {
            var product: Float = 1
            for k in 0..<order where k != j {
                product *= (Float(tau) - sigmas[i - k]) / (sigmas[i - j] - sigmas[i - k])
            }
            return Double(product)
        }
        return gaussKronrod21(basis, from: Double(sigmas[i]), to: Double(sigmas[i + 1]))
    }

    /// QUADPACK's `qk21`: the 21-point Kronrod rule, summed in its order.
    static func gaussKronrod21(_ f: (Double) -> Double, from a: Double, to b: Double) -> Double {
        let nodes = [0.995657163025808080735527280689003, 0.973906528517171720077964012084452, 0.930157491355708226001207180059508,
                     0.865063366688984510732096688423493, 0.780817726586416897063717578345042, 0.679409568299024406234327365114874,
                     0.562757134668604683339000099272694, 0.433395394129247190799265943165784, 0.294392862701460198131126603103866,
                     0.148874338981631210884826001129720, 0.0]
        let weights = [0.011694638867371874278064396062192, 0.032558162307964727478818972459390, 0.054755896574351996031381300244580,
                       0.075039674810919952767043140916190, 0.093125454583697605535065465083366, 0.109387158802297641899210590325805,
                       0.123491976262065851077752717747021, 0.134709217311473325928054001771707, 0.142775938577060080797094273138717,
                       0.147739104901338491374841515972068, 0.149445554002916905664936468389821]
        let centre = 0.5 * (a + b), halfLength = 0.5 * (b - a)
        var sum = weights[10] * f(centre)
        // The Gauss nodes (odd indices) first, then the Kronrod-only ones, as qk21 adds them.
        for index in [1, 3, 5, 7, 9, 0, 2, 4, 6, 8] {
            let offset = halfLength * nodes[index]
            sum += weights[index] * (f(centre - offset) + f(centre + offset))
        }
        return sum * halfLength
    }
}
