import Foundation
import LatentflowTensor

/// How a model's output becomes a denoised prediction (ComfyUI's EPS / V_PREDICTION / X0 /
/// IMG_TO_IMG, plus LCM's consistency boundary conditions).
public enum Parameterization: String, Sendable, CaseIterable {
    case eps
    case vPrediction = "v_prediction"
    case lcm
    case x0
    case imgToImg = "img_to_img"
    /// EDM's preconditioning (Karras et al. 2022): v-prediction's input scaling, output added.
    case edm
}

/// How a continuous-time model maps sigma to its timestep (ComfyUI's `ModelSamplingContinuousEDM`
/// and `ModelSamplingContinuousV`): ¼·log σ, or atan(σ)·2/π.
public enum ContinuousTimesteps: Sendable {
    case edm, v
}

/// The discrete noise schedule of SD1.x and its conversions, as ComfyUI's
/// `ModelSamplingDiscrete` (and `ModelSamplingDiscreteDistilled` for LCM).
///
/// Matches: ComfyUI `comfy/model_sampling.py` and `comfy_extras/nodes_model_advanced.py`. The
/// table is computed in float64 and stored in float32; conversions run in float32 like torch.
public struct ModelSampling: Sendable {
    public let parameterization: Parameterization
    /// Ascending sigmas (1000 entries, or 50 for LCM).
    public let sigmas: [Float]
    public let logSigmas: [Float]
    /// LCM keeps every 20th timestep: index i stands for timestep 20·i + 19.
    public let skipSteps: Int
    public let sigmaData: Float
    /// Nil: the discrete schedule, whose timesteps index the table; else the continuous mapping.
    public let continuous: ContinuousTimesteps?

    public var sigmaMin: Float { sigmas[0] }
    public var sigmaMax: Float { sigmas[sigmas.count - 1] }

    /// SD1.5's schedule: linear betas 0.00085…0.012 over 1000 steps (optionally zero-terminal-SNR).
    /// `distilled` keeps ModelSamplingDiscreteDistilled's 50 timesteps (LCM's table); nil: for LCM only
    /// (the TCD node pack pairs that table with eps).
    public init(
        parameterization: Parameterization = .eps, zeroTerminalSNR: Bool = false,
        linearStart: Double = 0.00085, linearEnd: Double = 0.012, timesteps: Int = 1000, distilled: Bool? = nil
    ) {
        self.parameterization = parameterization
        (sigmaData, continuous) = (1, nil)
        let roots = torchLinspace(linearStart.squareRoot(), linearEnd.squareRoot(), timesteps)
        var cumulative = 1.0
        var sigmas64 = [Double]()
        for root in roots {
            cumulative *= 1 - root * root
            sigmas64.append(((1 - cumulative) / cumulative).squareRoot())
        }
        if zeroTerminalSNR { sigmas64 = rescaleZeroTerminalSNR(sigmas64) }
        if distilled ?? (parameterization == .lcm) {
            // ModelSamplingDiscreteDistilled: 50 of the float32 sigmas, logs taken in float32.
            let full = sigmas64.map { Float($0) }
            let original = 50, skip = timesteps / original
            let valid = (0..<original).map { full[timesteps - 1 - (original - 1 - $0) * skip] }
            sigmas = valid
            logSigmas = zeroTerminalSNR ? valid.map { Foundation.log($0) } : Self.comfyLCMLogSigmas
            skipSteps = skip
        } else {
            sigmas = sigmas64.map { Float($0) }
            logSigmas = sigmas64.map { Float(Foundation.log($0)) }
            skipSteps = 1
        }
    }

    /// A continuous-time schedule: 1000 sigmas log-spaced from `sigmaMin` to `sigmaMax` (float32, as
    /// `torch.linspace(log min, log max, 1000).exp()`), timesteps mapped by `continuous`.
    ///
    /// Matches: ComfyUI `comfy/model_sampling.py` `ModelSamplingContinuousEDM.set_parameters` and
    /// `ModelSamplingContinuousV`.
    public init(
        continuous: ContinuousTimesteps, parameterization: Parameterization, sigmaMin: Double, sigmaMax: Double,
        sigmaData: Double
    ) {
        (self.continuous, self.parameterization, self.sigmaData) = (continuous, parameterization, Float(sigmaData))
        let logs = torchLinspace(Float(Foundation.log(sigmaMin)), Float(Foundation.log(sigmaMax)), 1000)
        sigmas = logs.map { Foundation.exp($0) }
        logSigmas = sigmas.map { Foundation.log($0) }
        skipSteps = 1
    }

    /// The UNet timestep for a sigma: the nearest table entry in log space, the first on ties
    /// (halfway timesteps, as LCM's sgm_uniform 3rd step, tie exactly); continuous schedules map it.
    public func timestep(_ sigma: Float) -> Float {
        switch continuous {
        case .edm: return 0.25 * Foundation.log(sigma)
        case .v: return atanf(sigma) / Float.pi * 2
        case nil: break
        }
        let logSigma = Foundation.log(sigma)
        var best = 0
        var bestDistance = Float.infinity
        for (i, entry) in logSigmas.enumerated() {
            let distance = abs(logSigma - entry)
            if distance < bestDistance {
                best = i
                bestDistance = distance
            }
        }
        return Float(best * skipSteps + (skipSteps - 1))
    }

    /// The sigma of a (possibly fractional) timestep: log-linear interpolation of the table.
    public func sigma(_ timestep: Float) -> Float {
        switch continuous {
        case .edm: return Foundation.exp(timestep / 0.25)
        case .v: return tanf(timestep * Float.pi / 2)
        case nil: break
        }
        var t = timestep
        if skipSteps > 1 { t = (t - Float(skipSteps - 1)) / Float(skipSteps) }
        t = min(max(t, 0), Float(sigmas.count - 1))
        let low = Int(t.rounded(.down)), high = Int(t.rounded(.up))
        let w = t - t.rounded(.towardZero)
        let logSigma = (1 - w) * logSigmas[low] + w * logSigmas[high]
        return Foundation.exp(logSigma)
    }

    /// The model input for a noisy latent: `x / sqrt(σ² + σ_data²)` (ComfyUI's `EPS.calculate_input`,
    /// which eps, v-prediction, x0 and LCM share); `img_to_img` passes x unscaled.
    public func calculateInput(sigma: Float, _ x: Tensor) -> Tensor {
        if parameterization == .imgToImg { return x }
        return x.scaled(by: 1 / (sigma * sigma + sigmaData * sigmaData).squareRoot())
    }

    /// The denoised prediction from the model output.
    public func calculateDenoised(sigma: Float, modelOutput: Tensor, input x: Tensor) throws -> Tensor {
        switch parameterization {
        case .eps:
            return try x.subtracting(modelOutput.scaled(by: sigma))
        case .vPrediction:
            let denominator = sigma * sigma + sigmaData * sigmaData
            return try x.scaled(by: sigmaData * sigmaData / denominator)
                .subtracting(modelOutput.scaled(by: sigma).scaled(by: sigmaData / denominator.squareRoot()))
        case .edm:
            let denominator = sigma * sigma + sigmaData * sigmaData
            return try x.scaled(by: sigmaData * sigmaData / denominator)
                .adding(modelOutput.scaled(by: sigma).scaled(by: sigmaData / denominator.squareRoot()))
        case .x0, .imgToImg:
            return modelOutput
        case .lcm:
            let x0 = try x.subtracting(modelOutput.scaled(by: sigma))
            let scaledTimestep = timestep(sigma) * 10
            let dataSquared: Float = 0.5 * 0.5
            let cSkip = dataSquared / (scaledTimestep * scaledTimestep + dataSquared)
            let cOut = scaledTimestep / (scaledTimestep * scaledTimestep + dataSquared).squareRoot()
            return try x0.scaled(by: cOut).adding(x.scaled(by: cSkip))
        }
    }

    /// Noise added to a latent at the start of sampling (and by LCM between steps).
    public func noiseScaling(sigma: Float, noise: Tensor, latent: Tensor, maxDenoise: Bool = false) throws -> Tensor {
        let scale = maxDenoise ? (1 + sigma * sigma).squareRoot() : sigma
        return try noise.scaled(by: scale).adding(latent)
    }

    /// ComfyUI's `max_denoise`: the schedule starts at (or above) the model's largest sigma.
    public func isMaxDenoise(_ firstSigma: Float) -> Bool {
        let maxSigma = Double(sigmaMax), sigma = Double(firstSigma)
        return abs(maxSigma - sigma) <= 1e-5 * max(abs(maxSigma), abs(sigma)) || sigma > maxSigma
    }
}

extension ModelSampling {
    /// The log-sigma table of ComfyUI's LCM sampling as torch computes it: `log()` of the 50
    /// float32 sigmas runs SLEEF's vectorized logf on the first 48, which differs from libm in
    /// the last bit at four entries (23, 24, 30, 31), and those bits decide whether LCM's
    /// sgm_uniform halfway timestep ties (ComfyUI picks 499, libm's table would give 519).
    /// Verified against torch by `SchedulerTests.testLogTablesMatchExactly`.
    static let comfyLCMLogSigmas: [Float] = [
        0xC0006B72, 0xBFD0657E, 0xBFB25C2E, 0xBF9BDA14, 0xBF897584,
        0xBF735100, 0xBF574499, 0xBF3DCB4C, 0xBF26424A, 0xBF10394B,
        0xBEF6BE4C, 0xBECEEDD2, 0xBEA8A2AC, 0xBE839180, 0xBE3EF98B,
        0xBDF0C470, 0xBD4C15CC, 0x3C8B4574, 0x3DAA566B, 0x3E187E16,
        0x3E5B97D5, 0x3E8F5558, 0x3EB0F2A4, 0x3ED2B9D2, 0x3EF4BFBA,
        0x3F0B8C2D, 0x3F1CEB78, 0x3F2E8714, 0x3F406819, 0x3F52976B,
        0x3F651DC0, 0x3F7803A6, 0x3F85A8C4, 0x3F8F87D9, 0x3F99A322,
        0x3FA3FEA3, 0x3FAE9E49, 0x3FB985EF, 0x3FC4B95B, 0x3FD03C3D,
        0x3FDC122A, 0x3FE83EA0, 0x3FF4C502, 0x4000D44B, 0x40077643,
        0x400E49F1, 0x401550CB, 0x401C8C3C, 0x4023FDA1, 0x402BA647,
    ].map { Float(bitPattern: $0) }
}

/// `torch.linspace(start, end, steps)` in its scalar order of operations: the first half counts
/// up from `start`, the second half down from `end`.
func torchLinspace<T: BinaryFloatingPoint>(_ start: T, _ end: T, _ steps: Int) -> [T] {
    guard steps > 1 else { return steps == 1 ? [start] : [] }
    let step = (end - start) / T(steps - 1)
    let halfway = steps / 2
    return (0..<steps).map { i in i < halfway ? start + step * T(i) : end - step * T(steps - i - 1) }
}

/// ComfyUI's `rescale_zero_terminal_snr_sigmas` (float64).
func rescaleZeroTerminalSNR(_ sigmas: [Double]) -> [Double] {
    var roots = sigmas.map { (1 / ($0 * $0 + 1)).squareRoot() }
    let first = roots[0], last = roots[roots.count - 1]
    roots = roots.map { ($0 - last) * (first / (first - last)) }
    var bars = roots.map { $0 * $0 }
    bars[bars.count - 1] = 4.897_345_189_085_343_5e-08
    return bars.map { ((1 - $0) / $0).squareRoot() }
}
