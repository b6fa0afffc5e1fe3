import LatentflowGraph
import LatentflowSampling

// The custom-sampling nodes that hand out a SAMPLER with settings other than the menu's
// defaults (ComfyUI `comfy_extras/nodes_custom_sampler.py`: each calls
// `comfy.samplers.ksampler(name, {options})`). Their inputs, defaults and ranges are ComfyUI's.

private let samplersCategory = "sampling/custom_sampling/samplers"

private func noiseInput(_ name: String, default value: Double, max: Double = 100) -> Input<Double> {
    Input.float(name, default: value, min: 0, max: max, step: 0.01)
}

public struct SamplerEulerAncestral: Node {
    static let eta = noiseInput("eta", default: 1)
    static let sNoise = noiseInput("s_noise", default: 1)
    public static let schema = NodeSchema(
        "SamplerEulerAncestral", category: samplersCategory, inputs: [eta, sNoise],
        outputs: outputs(Output<SamplerChoice>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let algorithm = SamplerOptions.eulerAncestral(eta: try inputs[Self.eta], sNoise: try inputs[Self.sNoise])
        return NodeOutputs(SamplerChoice(name: .eulerAncestral, custom: algorithm))
    }
}

public struct SamplerEulerAncestralCFGPP: Node {
    static let eta = noiseInput("eta", default: 1, max: 1)
    static let sNoise = noiseInput("s_noise", default: 1, max: 10)
    public static let schema = NodeSchema(
        "SamplerEulerAncestralCFGPP", displayName: "SamplerEulerAncestralCFG++", category: samplersCategory,
        inputs: [eta, sNoise], outputs: outputs(Output<SamplerChoice>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let algorithm = SamplerOptions.eulerAncestralCFGPP(eta: try inputs[Self.eta], sNoise: try inputs[Self.sNoise])
        return NodeOutputs(SamplerChoice(name: .eulerAncestralCFGPP, custom: algorithm))
    }
}

public struct SamplerLMS: Node {
    static let order = Input.int("order", default: 4, min: 1, max: 100)
    public static let schema = NodeSchema(
        "SamplerLMS", category: samplersCategory, inputs: [order], outputs: outputs(Output<SamplerChoice>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(SamplerChoice(name: .lms, custom: SamplerOptions.lms(order: try inputs[Self.order])))
    }
}

public struct SamplerDPMPP_2S_Ancestral: Node {
    static let eta = noiseInput("eta", default: 1)
    static let sNoise = noiseInput("s_noise", default: 1)
    public static let schema = NodeSchema(
        "SamplerDPMPP_2S_Ancestral", category: samplersCategory, inputs: [eta, sNoise],
        outputs: outputs(Output<SamplerChoice>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let algorithm = SamplerOptions.dpmpp2sAncestral(eta: try inputs[Self.eta], sNoise: try inputs[Self.sNoise])
        return NodeOutputs(SamplerChoice(name: .dpmpp2sAncestral, custom: algorithm))
    }
}

public struct SamplerDPMAdaptative: Node {
    static let order = Input.int("order", default: 3, min: 2, max: 3)
    static let rtol = noiseInput("rtol", default: 0.05)
    static let atol = noiseInput("atol", default: 0.0078)
    static let hInit = noiseInput("h_init", default: 0.05)
    static let pcoeff = noiseInput("pcoeff", default: 0)
    static let icoeff = noiseInput("icoeff", default: 1)
    static let dcoeff = noiseInput("dcoeff", default: 0)
    static let acceptSafety = noiseInput("accept_safety", default: 0.81)
    static let eta = noiseInput("eta", default: 0)
    static let sNoise = noiseInput("s_noise", default: 1)
    public static let schema = NodeSchema(
        "SamplerDPMAdaptative", category: samplersCategory,
        inputs: [order, rtol, atol, hInit, pcoeff, icoeff, dcoeff, acceptSafety, eta, sNoise],
        outputs: outputs(Output<SamplerChoice>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let algorithm = SamplerOptions.dpmAdaptive(
            order: try inputs[Self.order], rtol: try inputs[Self.rtol], atol: try inputs[Self.atol],
            hInit: try inputs[Self.hInit], pcoeff: try inputs[Self.pcoeff], icoeff: try inputs[Self.icoeff],
            dcoeff: try inputs[Self.dcoeff], acceptSafety: try inputs[Self.acceptSafety], eta: try inputs[Self.eta],
            sNoise: try inputs[Self.sNoise])
        return NodeOutputs(SamplerChoice(name: .dpmAdaptive, custom: algorithm))
    }
}

public struct SamplerSASolver: Node {
    static let model = Input<DiffusionModel>("model")
    static let eta = noiseInput("eta", default: 1, max: 10)
    static let sdeStart = Input.float("sde_start_percent", default: 0.2, min: 0, max: 1, step: 0.001)
    static let sdeEnd = Input.float("sde_end_percent", default: 0.8, min: 0, max: 1, step: 0.001)
    static let sNoise = noiseInput("s_noise", default: 1)
    static let predictorOrder = Input.int("predictor_order", default: 3, min: 1, max: 6)
    static let correctorOrder = Input.int("corrector_order", default: 4, min: 0, max: 6)
    static let usePECE = Input.boolean("use_pece", default: false)
    static let simpleOrder2 = Input.boolean("simple_order_2", default: false)
    public static let schema = NodeSchema(
        "SamplerSASolver", category: samplersCategory,
        inputs: [model, eta, sdeStart, sdeEnd, sNoise, predictorOrder, correctorOrder, usePECE, simpleOrder2],
        outputs: outputs(Output<SamplerChoice>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let sampling = try inputs[Self.model].sampling
        let usePECE = try inputs[Self.usePECE]
        let algorithm = SamplerOptions.saSolver(
            eta: try inputs[Self.eta],
            sdeSigmas: (
                sampling.percentToSigma(try inputs[Self.sdeStart]), sampling.percentToSigma(try inputs[Self.sdeEnd])
            ),
            sNoise: try inputs[Self.sNoise], predictorOrder: try inputs[Self.predictorOrder],
            correctorOrder: try inputs[Self.correctorOrder], usePECE: usePECE,
            simpleOrder2: try inputs[Self.simpleOrder2])
        return NodeOutputs(SamplerChoice(name: usePECE ? .saSolverPECE : .saSolver, custom: algorithm))
    }
}
