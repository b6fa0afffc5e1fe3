import LatentflowGraph
import LatentflowSampling

// The `sampling/custom_sampling/sigmas` nodes: thin adapters over `SigmaOperations`
// (ComfyUI `comfy_extras/nodes_custom_sampler.py`).

private let sigmasCategory = "sampling/custom_sampling/sigmas"

public struct SplitSigmas: Node {
    static let sigmas = Input<Sigmas>("sigmas")
    static let step = Input.int("step", default: 0, min: 0, max: 10000)
    public static let schema = NodeSchema(
        "SplitSigmas", category: sigmasCategory, inputs: [sigmas, step],
        outputs: outputs(Output<Sigmas>("high_sigmas"), Output<Sigmas>("low_sigmas")))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let (high, low) = SigmaOperations.split(try inputs[Self.sigmas].values, step: try inputs[Self.step])
        return NodeOutputs(Sigmas(values: high), Sigmas(values: low))
    }
}

public struct SplitSigmasDenoise: Node {
    static let sigmas = Input<Sigmas>("sigmas")
    static let denoise = Input.float("denoise", default: 1.0, min: 0, max: 1, step: 0.01)
    public static let schema = NodeSchema(
        "SplitSigmasDenoise", category: sigmasCategory, inputs: [sigmas, denoise],
        outputs: outputs(Output<Sigmas>("high_sigmas"), Output<Sigmas>("low_sigmas")))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let (high, low) = SigmaOperations.splitDenoise(
            try inputs[Self.sigmas].values, denoise: try inputs[Self.denoise])
        return NodeOutputs(Sigmas(values: high), Sigmas(values: low))
    }
}

public struct FlipSigmas: Node {
    static let sigmas = Input<Sigmas>("sigmas")
    public static let schema = NodeSchema(
        "FlipSigmas", category: sigmasCategory, inputs: [sigmas], outputs: outputs(Output<Sigmas>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(Sigmas(values: SigmaOperations.flip(try inputs[Self.sigmas].values)))
    }
}

public struct SetFirstSigma: Node {
    static let sigmas = Input<Sigmas>("sigmas")
    static let sigma = Input.float("sigma", default: 136.0, min: 0, max: 20000, step: 0.001)
    public static let schema = NodeSchema(
        "SetFirstSigma", category: sigmasCategory, inputs: [sigmas, sigma], outputs: outputs(Output<Sigmas>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var values = try inputs[Self.sigmas].values
        guard !values.isEmpty else { throw NodeError("sigmas is empty: there is no first sigma to set") }
        values[0] = Float(try inputs[Self.sigma])
        return NodeOutputs(Sigmas(values: values))
    }
}

public struct ExtendIntermediateSigmas: Node {
    static let sigmas = Input<Sigmas>("sigmas")
    static let steps = Input.int("steps", default: 2, min: 1, max: 100)
    static let startAtSigma = Input.float("start_at_sigma", default: -1.0, min: -1, max: 20000, step: 0.01)
    static let endAtSigma = Input.float("end_at_sigma", default: 12.0, min: 0, max: 20000, step: 0.01)
    static let spacing = Input.combo("spacing", options: ["linear", "cosine", "sine"])
    public static let schema = NodeSchema(
        "ExtendIntermediateSigmas", category: sigmasCategory,
        inputs: [sigmas, steps, startAtSigma, endAtSigma, spacing],
        outputs: outputs(Output<Sigmas>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(
            Sigmas(
                values: SigmaOperations.extendIntermediate(
                    try inputs[Self.sigmas].values, steps: try inputs[Self.steps],
                    startAtSigma: try inputs[Self.startAtSigma], endAtSigma: try inputs[Self.endAtSigma],
                    spacing: try inputs[Self.spacing])))
    }
}
