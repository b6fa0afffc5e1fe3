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
}
