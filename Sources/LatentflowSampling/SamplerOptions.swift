/// Samplers with settings other than their menu defaults: what ComfyUI's custom-sampling
/// parameter nodes (SamplerDPMAdaptative, SamplerSASolver, …) hand out as a SAMPLER.
///
/// Matches: ComfyUI `comfy_extras/nodes_custom_sampler.py`, whose nodes call
/// `comfy.samplers.ksampler(name, {options})`.
public enum SamplerOptions {
    /// `SamplerDPMAdaptative`.
    public static func dpmAdaptive(
        order: Int, rtol: Double, atol: Double, hInit: Double, pcoeff: Double, icoeff: Double, dcoeff: Double,
        acceptSafety: Double, eta: Double, sNoise: Double
    ) -> any SamplerAlgorithm {
        DPMSolverAdaptive(
            options: .init(
                order: order, rtol: rtol, atol: atol, hInit: hInit, pcoeff: pcoeff, icoeff: icoeff, dcoeff: dcoeff,
                acceptSafety: acceptSafety, eta: eta, sNoise: sNoise))
    }

    /// `SamplerSASolver`: the SDE interval is the sigmas at its start and end percent of the
    /// node's model (`percent_to_sigma`).
    public static func saSolver(
        eta: Double, sdeSigmas: (start: Float, end: Float), sNoise: Double, predictorOrder: Int,
        correctorOrder: Int, usePECE: Bool, simpleOrder2: Bool
    ) -> any SamplerAlgorithm {
        SASolver(
            options: .init(
                eta: eta, sdeSigmas: sdeSigmas, sNoise: sNoise, predictorOrder: predictorOrder,
                correctorOrder: correctorOrder, usePECE: usePECE, simpleOrder2: simpleOrder2))
    }

    /// `SamplerEulerAncestral`.
    public static func eulerAncestral(eta: Double, sNoise: Double) -> any SamplerAlgorithm {
        EulerAncestral(eta: eta, sNoise: sNoise)
    }

    /// `SamplerEulerAncestralCFGPP`.
    public static func eulerAncestralCFGPP(eta: Double, sNoise: Double) -> any SamplerAlgorithm {
        EulerAncestralCFGPP(eta: eta, sNoise: sNoise)
    }

    /// `SamplerDPMPP_2S_Ancestral`.
    public static func dpmpp2sAncestral(eta: Double, sNoise: Double) -> any SamplerAlgorithm {
        DPMPP2SAncestral(eta: eta, sNoise: sNoise)
    }

    /// `SamplerLMS`.
    public static func lms(order: Int) -> any SamplerAlgorithm { LMS(order: order) }

    /// `SamplerDPMPP_SDE` (either noise device: the Brownian tree is the same on CPU).
    public static func dpmppSDE(eta: Double, sNoise: Double, r: Double) -> any SamplerAlgorithm {
        DPMPPSDE(eta: eta, sNoise: sNoise, r: r)
    }

    /// `SamplerDPMPP_2M_SDE`: `heun` is the heun correction, anything else the midpoint one.
    public static func dpmpp2mSDE(heun: Bool, eta: Double, sNoise: Double) -> any SamplerAlgorithm {
        DPMPPMultistepSDE(correction: heun ? .heun : .midpoint, eta: eta, sNoise: sNoise)
    }

    /// `SamplerDPMPP_3M_SDE`.
    public static func dpmpp3mSDE(eta: Double, sNoise: Double) -> any SamplerAlgorithm {
        DPMPPMultistepSDE(correction: .thirdOrder, eta: eta, sNoise: sNoise)
    }

    /// `SamplerER_SDE`'s solver types.
    public enum ERSDESolver: String, Sendable, CaseIterable {
        case erSDE = "ER-SDE", reverseTimeSDE = "Reverse-time SDE", ode = "ODE"
    }

    /// `SamplerER_SDE`: the ODE, and the reverse-time SDE at eta 0, run without noise; every type
    /// but ER-SDE scales noise by λ^(eta + 1).
    public static func erSDE(solver: ERSDESolver, maxStage: Int, eta: Double, sNoise: Double) -> any SamplerAlgorithm {
        var (eta, sNoise) = (eta, sNoise)
        if solver == .ode || (solver == .reverseTimeSDE && eta == 0) { (eta, sNoise) = (0, 0) }
        return ERSDE(noiseScaler: solver == .erSDE ? .erSDE : .power(eta + 1), sNoise: sNoise, maxStage: maxStage)
    }

    /// `SamplerEulerCFGpp` "alternative" (`sample_euler_pp`); "regular" is the `euler_cfg_pp` menu sampler.
    public static func eulerCFGPPAlternative() -> any SamplerAlgorithm { EulerCFGPPAlternative() }
}
