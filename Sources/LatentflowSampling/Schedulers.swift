import Foundation

/// ComfyUI's scheduler names (`KSampler.SCHEDULERS`), in its order.
public enum SchedulerName: String, Sendable, CaseIterable {
    case simple, sgmUniform = "sgm_uniform", karras, exponential, ddimUniform = "ddim_uniform", beta, normal
    case linearQuadratic = "linear_quadratic", klOptimal = "kl_optimal"

}

/// Pure functions from a model's schedule and a step count to the sigmas a sampler walks,
/// trailing 0 included.
///
/// Matches: ComfyUI `comfy/samplers.py` (`simple_scheduler`, `normal_scheduler`, `ddim_scheduler`,
/// `beta_scheduler`) and `comfy/k_diffusion/sampling.py` (`get_sigmas_karras`,
/// `get_sigmas_exponential`), in float32 where torch computes in float32.
public enum Schedulers {
    public static func sigmas(_ name: SchedulerName, _ sampling: ModelSampling, steps: Int) throws -> [Float] {
        switch name {
        case .simple: return simple(sampling, steps: steps)
        case .sgmUniform: return normal(sampling, steps: steps, sgm: true)
        case .normal: return normal(sampling, steps: steps, sgm: false)
        case .karras: return karras(steps: steps, sigmaMin: sampling.sigmaMin, sigmaMax: sampling.sigmaMax)
        case .exponential: return exponential(steps: steps, sigmaMin: sampling.sigmaMin, sigmaMax: sampling.sigmaMax)
        case .ddimUniform: return ddimUniform(sampling, steps: steps)
        case .beta: return beta(sampling, steps: steps)
        case .linearQuadratic: return linearQuadratic(steps: steps, sigmaMax: sampling.sigmaMax)
        case .klOptimal: return klOptimal(steps: steps, sigmaMin: sampling.sigmaMin, sigmaMax: sampling.sigmaMax)
        }
    }

    static func simple(_ s: ModelSampling, steps: Int) -> [Float] {
        let stride = Double(s.sigmas.count) / Double(steps)
        return (0..<steps).map { s.sigmas[s.sigmas.count - 1 - Int(Double($0) * stride)] } + [0]
    }

    static func normal(_ s: ModelSampling, steps: Int, sgm: Bool) -> [Float] {
        let start = s.timestep(s.sigmaMax), end = s.timestep(s.sigmaMin)
        var count = steps
        var appendZero = true
        let timesteps: [Float]
        if sgm {
            timesteps = Array(torchLinspace(start, end, count + 1).dropLast())
        } else {
            if abs(Double(s.sigma(end))) <= 1e-5 {
                count += 1
                appendZero = false
            }
            timesteps = torchLinspace(start, end, count)
        }
        return timesteps.map { s.sigma($0) } + (appendZero ? [0] : [])
    }

    static func karras(steps: Int, sigmaMin: Float, sigmaMax: Float, rho: Double = 7) -> [Float] {
        let ramp = torchLinspace(Float(0), Float(1), steps)
        let minInv = Foundation.pow(Double(sigmaMin), 1 / rho), maxInv = Foundation.pow(Double(sigmaMax), 1 / rho)
        let span = Float(minInv - maxInv), base = Float(maxInv)
        return ramp.map { Foundation.pow(base + $0 * span, Float(rho)) } + [0]
    }

    static func exponential(steps: Int, sigmaMin: Float, sigmaMax: Float) -> [Float] {
        torchLinspace(Float(Foundation.log(Double(sigmaMax))), Float(Foundation.log(Double(sigmaMin))), steps)
            .map { Foundation.exp($0) } + [0]
    }

    /// Mochi's linear-then-quadratic schedule (in float64, scaled by σ_max in float32).
    static func linearQuadratic(steps: Int, sigmaMax: Float, threshold: Double = 0.025) -> [Float] {
        var schedule: [Double]
        if steps == 1 {
            schedule = [1, 0]
        } else {
            let linearSteps = steps / 2
            let linear = (0..<linearSteps).map { Double($0) * threshold / Double(linearSteps) }
            let thresholdDiff = Double(linearSteps) - threshold * Double(steps)
            let quadraticSteps = Double(steps - linearSteps)
            let quadraticCoefficient = thresholdDiff / (Double(linearSteps) * quadraticSteps * quadraticSteps)
            let linearCoefficient =
                threshold / Double(linearSteps) - 2 * thresholdDiff / (quadraticSteps * quadraticSteps)
            let constant = quadraticCoefficient * Double(linearSteps * linearSteps)
            let quadratic = (linearSteps..<steps).map { i -> Double in
                quadraticCoefficient * Double(i * i) + linearCoefficient * Double(i) + constant
            }
            schedule = (linear + quadratic + [1]).map { 1 - $0 }
        }
        return schedule.map { Float($0) * sigmaMax }
    }

    /// The "KL-optimal" schedule: tan of a linear blend of atan(σ_max) and atan(σ_min).
    static func klOptimal(steps: Int, sigmaMin: Float, sigmaMax: Float) -> [Float] {
        let atanMin = Float(Foundation.atan(Double(sigmaMin))), atanMax = Float(Foundation.atan(Double(sigmaMax)))
        return (0..<steps).map { i in
            let t = Float(i) / Float(steps - 1)
            return Foundation.tan(t * atanMin + (1 - t) * atanMax)
        } + [0]
    }

    static func ddimUniform(_ s: ModelSampling, steps: Int) -> [Float] {
        var count = steps
        var result: [Float]
        if abs(Double(s.sigmas[1])) <= 1e-5 {
            count += 1
            result = []
        } else {
            result = [0]
        }
        let stride = max(s.sigmas.count / count, 1)
        var x = 1
        while x < s.sigmas.count {
            result.append(s.sigmas[x])
            x += stride
        }
        return result.reversed()
    }

    /// Timesteps at the quantiles of Beta(0.6, 0.6), rounded, duplicates dropped.
    public static func beta(_ s: ModelSampling, steps: Int, alpha: Double = 0.6, beta: Double = 0.6) -> [Float] {
        let total = Double(s.sigmas.count - 1)
        var result: [Float] = []
        var last = -1.0
        for i in 0..<steps {
            let quantile = 1 - Double(i) / Double(steps)
            let t = (BetaDistribution.quantile(quantile, alpha, beta) * total).rounded(.toNearestOrEven)
            if t != last { result.append(s.sigmas[Int(t)]) }
            last = t
        }
        return result + [0]
    }
}

/// The inverse CDF of the Beta distribution (scipy's `beta.ppf`), by bisection on the
/// regularized incomplete beta function; exact enough to round timesteps the same way.
enum BetaDistribution {
    static func quantile(_ p: Double, _ a: Double, _ b: Double) -> Double {
        if p <= 0 { return 0 }
        if p >= 1 { return 1 }
        // The median of a symmetric Beta is 1/2; scipy (boost) returns 0.5000000000000001, which
        // decides np.rint(24.5) for LCM's 50-entry table, so it is reproduced here.
        if p == 0.5 && a == b { return 0.5.nextUp }
        var low = 0.0, high = 1.0
        for _ in 0..<200 {
            let mid = (low + high) / 2
            if regularizedIncompleteBeta(mid, a, b) < p { low = mid } else { high = mid }
        }
        return (low + high) / 2
    }

    /// I_x(a, b) by Lentz's continued fraction (Numerical Recipes `betacf`).
    static func regularizedIncompleteBeta(_ x: Double, _ a: Double, _ b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logBeta: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
        let logFront: Double = logBeta + a * Foundation.log(x) + b * Foundation.log(1 - x)
        if x > (a + 1) / (a + b + 2) { return 1 - regularizedIncompleteBeta(1 - x, b, a) }
        let tiny = 1e-300
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var fraction = d
        for m in 1...500 {
            let m = Double(m)
            var numerator = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + numerator * d
            if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            fraction *= d * c
            numerator = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + numerator * d
            if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            fraction *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return Foundation.exp(logFront) * fraction / a
    }
}
