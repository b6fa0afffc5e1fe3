import LatentflowGraph
import LatentflowSampling
import LatentflowTensor

/// LATENT_OPERATION: a function from latent to latent, made by the `LatentOperation*` nodes and
/// applied by `LatentApplyOperation` (ComfyUI `comfy_extras/nodes_latent.py`).
public struct LatentOperation: PortValue {
    public static var portType: PortType { "LATENT_OPERATION" }
    public let apply: @Sendable (Tensor) throws -> Tensor

    public init(_ apply: @escaping @Sendable (Tensor) throws -> Tensor) { self.apply = apply }
}

public struct LatentApplyOperation: Node {
    static let samples = Input<Latent>("samples")
    static let operation = Input<LatentOperation>("operation")

    public static let schema = NodeSchema(
        "LatentApplyOperation", category: "latent/advanced/operations",
        inputs: [samples, operation], outputs: outputs(Output<Latent>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var latent = try inputs[Self.samples]
        latent.samples = try inputs[Self.operation].apply(latent.samples)
        return NodeOutputs(latent)
    }
}

public struct LatentOperationTonemapReinhard: Node {
    static let multiplier = Input.float("multiplier", default: 1, min: 0, max: 100, step: 0.01)

    public static let schema = NodeSchema(
        "LatentOperationTonemapReinhard", category: "latent/advanced/operations",
        inputs: [multiplier], outputs: outputs(Output<LatentOperation>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let multiplier = Float(try inputs[Self.multiplier])
        return NodeOutputs(LatentOperation { try tonemapReinhard($0, multiplier: multiplier) })
    }
}

public struct LatentOperationSharpen: Node {
    static let radius = Input.int("sharpen_radius", default: 9, min: 1, max: 31, step: 1)
    static let sigma = Input.float("sigma", default: 1, min: 0.1, max: 10, step: 0.1)
    static let alpha = Input.float("alpha", default: 0.1, min: 0, max: 5, step: 0.01)

    public static let schema = NodeSchema(
        "LatentOperationSharpen", category: "latent/advanced/operations",
        inputs: [radius, sigma, alpha], outputs: outputs(Output<LatentOperation>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let (radius, sigma, alpha) = (
            try inputs[Self.radius], Float(try inputs[Self.sigma]), Float(try inputs[Self.alpha])
        )
        return NodeOutputs(LatentOperation { try sharpenLatent($0, radius: radius, sigma: sigma, alpha: alpha) })
    }
}

/// Applies a latent operation to the guidance direction at every step: the positive prediction
/// becomes `operation(cond − uncond) + uncond` (the negative is zeros when cfg 1 skips it, as
/// ComfyUI's `calc_cond_batch` gives them), before the predictions are combined.
///
/// Matches: ComfyUI `comfy_extras/nodes_latent.py` `LatentApplyOperationCFG` (a
/// `sampler_pre_cfg_function`).
public struct LatentApplyOperationCFG: Node {
    static let model = Input<DiffusionModel>("model")
    static let operation = Input<LatentOperation>("operation")

    public static let schema = NodeSchema(
        "LatentApplyOperationCFG", category: "latent/advanced/operations",
        inputs: [model, operation], outputs: outputs(Output<DiffusionModel>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let operation = try inputs[Self.operation]
        return NodeOutputs(
            try inputs[Self.model].addingGuidance(
                GuidancePatch(name: "LatentApplyOperationCFG") { _ in
                    .preCFG { predictions in
                        var result = predictions
                        result.cond = try operation.apply(predictions.cond.subtracting(predictions.uncond))
                            .adding(predictions.uncond)
                        return result
                    }
                }))
    }
}
