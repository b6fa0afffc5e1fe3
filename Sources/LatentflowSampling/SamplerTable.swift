/// Which algorithm runs each ComfyUI sampler name: the one place KSampler's validation, its
/// schedule (`SamplingPlan.sigmas`) and `Samplers.sample` look samplers up.
///
/// Adding a sampler is its own file (a `SamplerAlgorithm` that names itself) plus its line in
/// `algorithms`; a name of ComfyUI's menu (`SamplerName`) that no algorithm claims is refused as
/// not implemented yet.
///
/// Matches: ComfyUI `comfy/samplers.py` `KSAMPLER_NAMES` / `ksampler` (name → `sample_xxx`) and
/// `KSampler.DISCARD_PENULTIMATE_SIGMA_SAMPLERS`.
public enum SamplerTable {
    /// Every implemented algorithm, once, in ComfyUI's menu order.
    static let algorithms: [any SamplerAlgorithm] = [
        Euler(),  // euler, ddim
        EulerAncestralCFGPP.plain,  // euler_cfg_pp
        EulerAncestral(),
        EulerAncestralCFGPP(),
        Heun(),
        HeunPP2(),
        DPM2(ancestral: false),
        DPM2(ancestral: true),
        LMS(),
        DPMSolverFast(),
        DPMSolverAdaptive(),
        DPMPP2SAncestral(),
        DPMPP2SAncestralCFGPP(),
        DPMPPSDE(),  // dpmpp_sde, dpmpp_sde_gpu
        DPMPP2M(),
        DPMPP2MCFGPP(),
        DPMPPMultistepSDE(correction: .midpoint),  // dpmpp_2m_sde, dpmpp_2m_sde_gpu
        DPMPPMultistepSDE(correction: .heun),  // dpmpp_2m_sde_heun, dpmpp_2m_sde_heun_gpu
        DPMPPMultistepSDE(correction: .thirdOrder),  // dpmpp_3m_sde, dpmpp_3m_sde_gpu
        DDPM(),
        LCM(),
        IPNDM(variableStep: false),
        IPNDM(variableStep: true),
        DEIS(),
        ResMultistep(ancestral: false),
        ResMultistepCFGPP(ancestral: false),
        ResMultistep(ancestral: true),
        ResMultistepCFGPP(ancestral: true),
        GradientEstimation(),
        GradientEstimationCFGPP(),
        ERSDE(),
        SEEDS(stages: 2),
        SEEDS(stages: 3),
        SASolver(),
        SASolver(options: .init(usePECE: true)),
        UniPC(variant: .bh1),
        UniPC(variant: .bh2),
    ]

    /// Traps on first use if two algorithms claim the same name: a programming error that no
    /// input could cause.
    static let byName: [SamplerName: any SamplerAlgorithm] = Dictionary(
        uniqueKeysWithValues: algorithms.flatMap { algorithm in algorithm.names.map { ($0, algorithm) } })

    /// The algorithm that runs `name`, or nil where Latentflow does not implement it yet.
    public static func algorithm(for name: SamplerName) -> (any SamplerAlgorithm)? { byName[name] }
}

extension SamplerName {
    /// The algorithm that runs this sampler, or nil where Latentflow does not implement it yet.
    public var algorithm: (any SamplerAlgorithm)? { SamplerTable.algorithm(for: self) }

    /// Whether Latentflow implements this ComfyUI sampler.
    public var isImplemented: Bool { algorithm != nil }

    /// The implemented samplers, in ComfyUI's order.
    public static var implemented: [SamplerName] { allCases.filter(\.isImplemented) }

    /// Whether KSampler schedules one step more and drops the next-to-last sigma for this
    /// sampler (ComfyUI's `KSampler.DISCARD_PENULTIMATE_SIGMA_SAMPLERS`).
    public var discardsPenultimateSigma: Bool { algorithm?.discardsPenultimateSigma ?? false }
}
