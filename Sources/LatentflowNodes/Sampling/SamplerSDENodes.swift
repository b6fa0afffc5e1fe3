import LatentflowGraph
import LatentflowSampling

// The SDE samplers' parameter nodes (ComfyUI `comfy_extras/nodes_custom_sampler.py`). Their
// `noise_device` picks the `_gpu` or the CPU spelling of the sampler, which differ only in where
// the Brownian tree lives: on CPU they are the same sampler, so the option is accepted and kept
// in the SAMPLER's name only.

private let samplersCategory = "sampling/custom_sampling/samplers"

private func noiseInput(_ name: String, default value: Double) -> Input<Double> {
    Input.float(name, default: value, min: 0, max: 100, step: 0.01)
}

private let noiseDevices = ["gpu", "cpu"]

public struct SamplerDPMPP_SDE: Node {
    static let eta = noiseInput("eta", default: 1)
    static let sNoise = noiseInput("s_noise", default: 1)
    static let r = noiseInput("r", default: 0.5)
    static let noiseDevice = Input.combo("noise_device", options: noiseDevices)
    public static let schema = NodeSchema(
        "SamplerDPMPP_SDE", category: samplersCategory, inputs: [eta, sNoise, r, noiseDevice],
        outputs: outputs(Output<SamplerChoice>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let r = try inputs[Self.r]
        // r 0 puts the intermediate point on σ itself and divides by 2r: ComfyUI gives NaN there.
        guard r > 0 else { throw NodeError("SamplerDPMPP_SDE: r must be above 0 (the step's intermediate point)") }
        let algorithm = SamplerOptions.dpmppSDE(eta: try inputs[Self.eta], sNoise: try inputs[Self.sNoise], r: r)
        let name: SamplerName = try inputs[Self.noiseDevice] == "cpu" ? .dpmppSDE : .dpmppSDEGPU
        return NodeOutputs(SamplerChoice(name: name, custom: algorithm))
    }
}

public struct SamplerDPMPP_2M_SDE: Node {
    static let solverType = Input.combo("solver_type", options: ["midpoint", "heun"])
    static let eta = noiseInput("eta", default: 1)
    static let sNoise = noiseInput("s_noise", default: 1)
    static let noiseDevice = Input.combo("noise_device", options: noiseDevices)
    public static let schema = NodeSchema(
        "SamplerDPMPP_2M_SDE", category: samplersCategory, inputs: [solverType, eta, sNoise, noiseDevice],
        outputs: outputs(Output<SamplerChoice>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let heun = try inputs[Self.solverType] == "heun"
        let algorithm = SamplerOptions.dpmpp2mSDE(
            heun: heun, eta: try inputs[Self.eta], sNoise: try inputs[Self.sNoise])
        let name: SamplerName = try inputs[Self.noiseDevice] == "cpu" ? .dpmpp2mSDE : .dpmpp2mSDEGPU
        return NodeOutputs(SamplerChoice(name: name, custom: algorithm))
    }
}

public struct SamplerDPMPP_3M_SDE: Node {
    static let eta = noiseInput("eta", default: 1)
    static let sNoise = noiseInput("s_noise", default: 1)
    static let noiseDevice = Input.combo("noise_device", options: noiseDevices)
    public static let schema = NodeSchema(
        "SamplerDPMPP_3M_SDE", category: samplersCategory, inputs: [eta, sNoise, noiseDevice],
        outputs: outputs(Output<SamplerChoice>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let algorithm = SamplerOptions.dpmpp3mSDE(eta: try inputs[Self.eta], sNoise: try inputs[Self.sNoise])
        let name: SamplerName = try inputs[Self.noiseDevice] == "cpu" ? .dpmpp3mSDE : .dpmpp3mSDEGPU
        return NodeOutputs(SamplerChoice(name: name, custom: algorithm))
    }
}

public struct SamplerER_SDE: Node {
    static let solverType = Input.combo(
        "solver_type", options: SamplerOptions.ERSDESolver.allCases.map(\.rawValue))
    static let maxStage = Input.int("max_stage", default: 3, min: 1, max: 3)
    static let eta = Input.float(
        "eta", default: 1, min: 0, max: 100, step: 0.01,
        tooltip:
            "Stochastic strength of reverse-time SDE.\nWhen eta=0, it reduces to deterministic ODE. This setting doesn't apply to ER-SDE solver type."
    )
    static let sNoise = noiseInput("s_noise", default: 1)
    public static let schema = NodeSchema(
        "SamplerER_SDE", category: samplersCategory, inputs: [solverType, maxStage, eta, sNoise],
        outputs: outputs(Output<SamplerChoice>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let type = try inputs[Self.solverType]
        guard let solver = SamplerOptions.ERSDESolver(rawValue: type) else {
            throw NodeError("SamplerER_SDE: unknown solver_type '\(type)'")
        }
        let algorithm = SamplerOptions.erSDE(
            solver: solver, maxStage: try inputs[Self.maxStage], eta: try inputs[Self.eta],
            sNoise: try inputs[Self.sNoise])
        return NodeOutputs(SamplerChoice(name: .erSDE, custom: algorithm))
    }
}
