import LatentflowGraph
import LatentflowSampling

// The values on the custom-sampling ports (SAMPLER, SIGMAS, NOISE, GUIDER), which
// SamplerCustomAdvanced puts together (ComfyUI `comfy_extras/nodes_custom_sampler.py`).

/// SAMPLER: a sampling algorithm by name, or a node pack's own (`custom`, such as TCD's).
public struct SamplerChoice: PortValue {
    public static var portType: PortType { .sampler }
    public let name: SamplerName
    /// Runs in place of `name`'s algorithm.
    public var custom: (any SamplerAlgorithm)?

    public init(name: SamplerName, custom: (any SamplerAlgorithm)? = nil) {
        self.name = name
        self.custom = custom
    }
}
/// SIGMAS: a noise schedule, trailing 0 included.
public struct Sigmas: PortValue {
    public static var portType: PortType { .sigmas }
    public let values: [Float]
    public init(values: [Float]) { self.values = values }
}
/// NOISE: the initial noise's seed, or none.
public struct NoiseSource: PortValue {
    public static var portType: PortType { .noise }
    public let seed: Int
    public let enabled: Bool
}
/// GUIDER: the model with its conditioning and CFG scale.
public struct Guider: PortValue {
    public static var portType: PortType { .guider }
    public let model: DiffusionModel
    public let positive: Conditioning
    public let negative: Conditioning
    public let cfg: Double
    /// PerpNegGuider's empty-prompt conditioning and negative scale; nil: standard CFG.
    public var perpNeg: (empty: Conditioning, negScale: Double)? = nil
    /// DualCFGGuider's second prompt (between `positive` and `negative`), its scale against the
    /// negative (`cfg` is cond1's against it) and its style; nil: standard CFG.
    public var dualCFG: DualCFGSettings? = nil
}

/// DualCFGGuider's second prompt and how it is weighed.
public struct DualCFGSettings: Sendable {
    public let middle: Conditioning
    /// `cfg_cond2_negative`.
    public let cfgMiddleNegative: Double
    /// The "nested" style (else "regular").
    public let nested: Bool
}
