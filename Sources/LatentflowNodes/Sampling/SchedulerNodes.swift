import LatentflowGraph
import LatentflowSampling

// The `sampling/custom_sampling/schedulers` nodes that take explicit parameters: thin adapters
// over `SigmaSchedules` (ComfyUI `comfy_extras/nodes_custom_sampler.py`,
// `nodes_align_your_steps.py`). Their σ defaults are SD1.5's σ_max and σ_min.

private let schedulersCategory = "sampling/custom_sampling/schedulers"
private func stepsInput(default value: Int = 20) -> Input<Int> {
    Input.int("steps", default: value, min: 1, max: 10000)
}
private let sigmaMaxInput = Input.float("sigma_max", default: 14.614642, min: 0, max: 5000, step: 0.01)
private let sigmaMinInput = Input.float("sigma_min", default: 0.0291675, min: 0, max: 5000, step: 0.01)

public struct KarrasScheduler: Node {
    static let steps = stepsInput(), sigmaMax = sigmaMaxInput, sigmaMin = sigmaMinInput
    static let rho = Input.float("rho", default: 7.0, min: 0, max: 100, step: 0.01)
    public static let schema = NodeSchema(
        "KarrasScheduler", category: schedulersCategory, inputs: [steps, sigmaMax, sigmaMin, rho],
        outputs: outputs(Output<Sigmas>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(
            Sigmas(
                values: SigmaSchedules.karras(
                    steps: try inputs[Self.steps], sigmaMin: try inputs[Self.sigmaMin],
                    sigmaMax: try inputs[Self.sigmaMax], rho: try inputs[Self.rho])))
    }
}

public struct ExponentialScheduler: Node {
    static let steps = stepsInput(), sigmaMax = sigmaMaxInput, sigmaMin = sigmaMinInput
    public static let schema = NodeSchema(
        "ExponentialScheduler", category: schedulersCategory, inputs: [steps, sigmaMax, sigmaMin],
        outputs: outputs(Output<Sigmas>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(
            Sigmas(
                values: SigmaSchedules.exponential(
                    steps: try inputs[Self.steps], sigmaMin: try inputs[Self.sigmaMin],
                    sigmaMax: try inputs[Self.sigmaMax])))
    }
}

public struct PolyexponentialScheduler: Node {
    static let steps = stepsInput(), sigmaMax = sigmaMaxInput, sigmaMin = sigmaMinInput
    static let rho = Input.float("rho", default: 1.0, min: 0, max: 100, step: 0.01)
    public static let schema = NodeSchema(
        "PolyexponentialScheduler", category: schedulersCategory, inputs: [steps, sigmaMax, sigmaMin, rho],
        outputs: outputs(Output<Sigmas>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(
            Sigmas(
                values: SigmaSchedules.polyexponential(
                    steps: try inputs[Self.steps], sigmaMin: try inputs[Self.sigmaMin],
                    sigmaMax: try inputs[Self.sigmaMax], rho: try inputs[Self.rho])))
    }
}

public struct LaplaceScheduler: Node {
    static let steps = stepsInput(), sigmaMax = sigmaMaxInput, sigmaMin = sigmaMinInput
    static let mu = Input.float("mu", default: 0.0, min: -10, max: 10, step: 0.1)
    static let beta = Input.float("beta", default: 0.5, min: 0, max: 10, step: 0.1)
    public static let schema = NodeSchema(
        "LaplaceScheduler", category: schedulersCategory, inputs: [steps, sigmaMax, sigmaMin, mu, beta],
        outputs: outputs(Output<Sigmas>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(
            Sigmas(
                values: SigmaSchedules.laplace(
                    steps: try inputs[Self.steps], sigmaMin: try inputs[Self.sigmaMin],
                    sigmaMax: try inputs[Self.sigmaMax], mu: try inputs[Self.mu], beta: try inputs[Self.beta])))
    }
}

public struct VPScheduler: Node {
    static let steps = stepsInput()
    static let betaD = Input.float("beta_d", default: 19.9, min: 0, max: 5000, step: 0.01)
    static let betaMin = Input.float("beta_min", default: 0.1, min: 0, max: 5000, step: 0.01)
    static let epsS = Input.float("eps_s", default: 0.001, min: 0, max: 1, step: 0.0001)
    public static let schema = NodeSchema(
        "VPScheduler", category: schedulersCategory, inputs: [steps, betaD, betaMin, epsS],
        outputs: outputs(Output<Sigmas>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(
            Sigmas(
                values: SigmaSchedules.vp(
                    steps: try inputs[Self.steps], betaD: try inputs[Self.betaD], betaMin: try inputs[Self.betaMin],
                    epsS: try inputs[Self.epsS])))
    }
}

public struct BetaSamplingScheduler: Node {
    static let model = Input<DiffusionModel>("model")
    static let steps = stepsInput()
    static let alpha = Input.float("alpha", default: 0.6, min: 0, max: 50, step: 0.01)
    static let beta = Input.float("beta", default: 0.6, min: 0, max: 50, step: 0.01)
    public static let schema = NodeSchema(
        "BetaSamplingScheduler", category: schedulersCategory, inputs: [model, steps, alpha, beta],
        outputs: outputs(Output<Sigmas>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(
            Sigmas(
                values: Schedulers.beta(
                    try inputs[Self.model].sampling, steps: try inputs[Self.steps], alpha: try inputs[Self.alpha],
                    beta: try inputs[Self.beta])))
    }
}

public struct SDTurboScheduler: Node {
    static let model = Input<DiffusionModel>("model")
    static let steps = Input.int("steps", default: 1, min: 1, max: 10)
    static let denoise = Input.float("denoise", default: 1.0, min: 0, max: 1, step: 0.01)
    public static let schema = NodeSchema(
        "SDTurboScheduler", category: schedulersCategory, inputs: [model, steps, denoise],
        outputs: outputs(Output<Sigmas>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(
            Sigmas(
                values: SigmaSchedules.sdTurbo(
                    try inputs[Self.model].sampling, steps: try inputs[Self.steps], denoise: try inputs[Self.denoise])))
    }
}

/// Align Your Steps, from NVIDIA's tables for SD1, SDXL and SVD as ComfyUI has them.
public struct AlignYourStepsScheduler: Node {
    static let tables = [
        "SD1": SigmaSchedules.alignYourStepsSD1, "SDXL": SigmaSchedules.alignYourStepsSDXL,
        "SVD": SigmaSchedules.alignYourStepsSVD,
    ]
    static let modelType = Input.combo("model_type", options: ["SD1", "SDXL", "SVD"])
    static let steps = stepsInput(default: 10)
    static let denoise = Input.float("denoise", default: 1.0, min: 0, max: 1, step: 0.01)
    public static let schema = NodeSchema(
        "AlignYourStepsScheduler", category: schedulersCategory, inputs: [modelType, steps, denoise],
        outputs: outputs(Output<Sigmas>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(
            Sigmas(
                values: SigmaSchedules.alignYourSteps(
                    Self.tables[try inputs[Self.modelType]] ?? SigmaSchedules.alignYourStepsSD1,
                    steps: try inputs[Self.steps],
                    denoise: try inputs[Self.denoise])))
    }
}
