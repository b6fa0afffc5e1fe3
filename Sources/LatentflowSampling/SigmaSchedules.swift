import Foundation

/// The schedules of ComfyUI's custom-sampling scheduler nodes, from explicit parameters rather
/// than a scheduler name: float32 where torch computes in float32 (the Python-float parameters
/// cast to float32 as torch casts a scalar operand), float64 where ComfyUI uses numpy.
///
/// Matches: `comfy/k_diffusion/sampling.py` (`get_sigmas_karras`, `get_sigmas_exponential`,
/// `get_sigmas_polyexponential`, `get_sigmas_vp`, `get_sigmas_laplace`),
/// `comfy_extras/nodes_align_your_steps.py` and `comfy_extras/nodes_custom_sampler.py`
/// (`SDTurboScheduler`).
public enum SigmaSchedules {
    /// Karras et al. (2022): σ spaced evenly in σ^(1/ρ), trailing 0.
    public static func karras(steps: Int, sigmaMin: Double, sigmaMax: Double, rho: Double) -> [Float] {
        let ramp = torchLinspace(Float(0), Float(1), steps)
        let minInv = pow(sigmaMin, 1 / rho), maxInv = pow(sigmaMax, 1 / rho)
        let span = Float(minInv - maxInv), base = Float(maxInv)
        return ramp.map { powf(base + $0 * span, Float(rho)) } + [0]
    }

    /// Evenly spaced in log σ, trailing 0.
    public static func exponential(steps: Int, sigmaMin: Double, sigmaMax: Double) -> [Float] {
        torchLinspace(Float(log(sigmaMax)), Float(log(sigmaMin)), steps).map { expf($0) } + [0]
    }

    /// A polynomial of degree ρ in log σ, trailing 0.
    public static func polyexponential(steps: Int, sigmaMin: Double, sigmaMax: Double, rho: Double) -> [Float] {
        let span = Float(log(sigmaMax) - log(sigmaMin)), logMin = Float(log(sigmaMin))
        return torchLinspace(Float(1), Float(0), steps).map { expf(powf($0, Float(rho)) * span + logMin) } + [0]
    }

    /// The continuous VP schedule, trailing 0.
    public static func vp(steps: Int, betaD: Double, betaMin: Double, epsS: Double) -> [Float] {
        torchLinspace(Float(1), Float(epsS), steps).map { t in
            (expm1f(Float(betaD) * (t * t) / 2 + Float(betaMin) * t)).squareRoot()
        } + [0]
    }

    /// Tiankai et al. (2024): σ = exp(μ − β·sign(½ − x)·log(1 − 2|½ − x| + 10⁻⁵)), clamped to
    /// [σ_min, σ_max]. No trailing 0: ComfyUI's node returns the n sigmas as they are, so a sampler
    /// stops at σ_min.
    public static func laplace(steps: Int, sigmaMin: Double, sigmaMax: Double, mu: Double, beta: Double) -> [Float] {
        torchLinspace(Float(0), Float(1), steps).map { x in
            let offset = 0.5 - x
            let sign: Float = offset > 0 ? 1 : (offset < 0 ? -1 : 0)
            let lambda = Float(mu) - Float(beta) * sign * logf(1 - 2 * abs(offset) + 1e-5)
            return min(max(expf(lambda), Float(sigmaMin)), Float(sigmaMax))
        }
    }

    /// Align Your Steps' noise levels for SD1.x (NVIDIA's 10-step table).
    public static let alignYourStepsSD1: [Double] = [
        14.6146412293, 6.4745760956, 3.8636745985, 2.6946151520, 1.8841921177, 1.3943805092, 0.9642583904,
        0.6523686016, 0.3977456272, 0.1515232662, 0.0291671582,
    ]
    /// The SDXL and SVD tables ComfyUI also offers (a schedule is only numbers: any model can use one).
    public static let alignYourStepsSDXL: [Double] = [
        14.6146412293, 6.3184485287, 3.7681790315, 2.1811480769, 1.3405244945, 0.8620721141, 0.5550693289,
        0.3798540708, 0.2332364134, 0.1114188177, 0.0291671582,
    ]
    public static let alignYourStepsSVD: [Double] = [
        700.00, 54.5, 15.886, 7.977, 4.248, 1.789, 0.981, 0.403, 0.173, 0.034, 0.002,
    ]

    /// Align Your Steps: the table, log-linearly interpolated to `steps` + 1 levels (numpy, float64),
    /// the last `round(steps·denoise)` + 1 kept, the final one set to 0.
    public static func alignYourSteps(_ levels: [Double], steps: Int, denoise: Double) -> [Float] {
        var total = steps
        if denoise < 1 {
            if denoise <= 0 { return [] }
            total = Int((Double(steps) * denoise).rounded(.toNearestOrEven))
        }
        var sigmas = levels
        if steps + 1 != levels.count {
            let xs = numpyLinspace(levels.count), logs = levels.reversed().map { log($0) }
            sigmas = numpyLinspace(steps + 1).map { exp(numpyInterp($0, xs, logs)) }.reversed()
        }
        var kept = Array(sigmas.suffix(total + 1))
        kept[kept.count - 1] = 0
        return kept.map(Float.init)
    }

    /// SD-Turbo's schedule: `steps` of the timesteps 999, 899, …, 99, starting `10 − ⌊10·denoise⌋`
    /// in, as sigmas of `sampling`, trailing 0.
    public static func sdTurbo(_ sampling: ModelSampling, steps: Int, denoise: Double) -> [Float] {
        let start = 10 - Int(10 * denoise)
        let timesteps = (1...10).reversed().map { Float($0 * 100 - 1) }
        return timesteps.dropFirst(start).prefix(steps).map { sampling.sigma($0) } + [0]
    }

    /// `np.linspace(0, 1, n)`: i·(1/(n−1)), the last exactly 1.
    static func numpyLinspace(_ n: Int) -> [Double] {
        guard n > 1 else { return n == 1 ? [0] : [] }
        let step = 1 / Double(n - 1)
        return (0..<n).map { $0 == n - 1 ? 1 : Double($0) * step }
    }

    /// `np.interp(x, xs, ys)` for increasing `xs`: linear between the neighbours, the end values
    /// outside.
    static func numpyInterp(_ x: Double, _ xs: [Double], _ ys: [Double]) -> Double {
        guard let last = xs.last, x < last else { return ys[ys.count - 1] }
        guard x > xs[0] else { return ys[0] }
        var j = 0
        while xs[j + 1] <= x { j += 1 }
        let slope = (ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j])
        return slope * (x - xs[j]) + ys[j]
    }
}

/// The sigma-list operations of ComfyUI's `sampling/custom_sampling/sigmas` nodes
/// (`comfy_extras/nodes_custom_sampler.py`), with Python's slicing rules.
public enum SigmaOperations {
    /// SplitSigmas: `sigmas[:step+1]` and `sigmas[step:]` (the step's sigma in both).
    public static func split(_ sigmas: [Float], step: Int) -> (high: [Float], low: [Float]) {
        (Array(sigmas.prefix(step + 1)), Array(sigmas.dropFirst(min(step, sigmas.count))))
    }

    /// SplitSigmasDenoise: the last `round(steps·denoise)` steps go low. As in Python,
    /// `sigmas[:-0]` is empty, so denoise 0 leaves high empty and low the final sigma.
    public static func splitDenoise(_ sigmas: [Float], denoise: Double) -> (high: [Float], low: [Float]) {
        let steps = max(sigmas.count - 1, 0)
        let total = Int((Double(steps) * denoise).rounded(.toNearestOrEven))
        let high = total == 0 ? [] : Array(sigmas.dropLast(total))
        return (high, Array(sigmas.suffix(total + 1)))
    }

    /// FlipSigmas: reversed; a leading 0 becomes 0.0001 (samplers divide by σ).
    public static func flip(_ sigmas: [Float]) -> [Float] {
        var flipped = Array(sigmas.reversed())
        if flipped.first == 0 { flipped[0] = 0.0001 }
        return flipped
    }

    /// ExtendIntermediateSigmas: `steps − 1` extra sigmas between each pair whose first lies in
    /// [end, start] (start < 0: no upper bound), spaced linearly, by sin (cosine) or 1 − cos (sine)
    /// of x·π/2.
    public static func extendIntermediate(
        _ sigmas: [Float], steps: Int, startAtSigma: Double, endAtSigma: Double, spacing: String
    ) -> [Float] {
        let upper = startAtSigma < 0 ? Float.infinity : Float(startAtSigma), lower = Float(endAtSigma)
        let x = torchLinspace(Float(0), Float(1), steps + 1).dropFirst().dropLast()
        // torch casts math.pi to the nearest float32; Swift's Float.pi is rounded toward zero.
        let halfTurn = Float(Double.pi)
        let fractions: [Float] = x.map { x in
            switch spacing {
            case "cosine": return sinf(x * halfTurn / 2)
            case "sine": return 1 - cosf(x * halfTurn / 2)
            default: return x
            }
        }
        var extended: [Float] = []
        for (current, next) in zip(sigmas, sigmas.dropFirst()) {
            extended.append(current)
            if lower <= current && current <= upper {
                extended += fractions.map { $0 * (next - current) + current }
            }
        }
        if let last = sigmas.last { extended.append(last) }
        return extended
    }
}
