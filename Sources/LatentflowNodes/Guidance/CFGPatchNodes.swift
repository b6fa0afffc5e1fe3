import LatentflowGraph
import LatentflowSampling

// The nodes that patch a MODEL's classifier-free guidance with one function of the predictions
// (the maths is `GuidanceFunctions`, LatentflowSampling). Each returns a copy of the MODEL with
// the patch after its others.

/// Rescales CFG's result toward the positive's standard deviation (on v-prediction outputs).
///
/// Matches: ComfyUI `comfy_extras/nodes_model_advanced.py` `RescaleCFG` (a `sampler_cfg_function`).
public struct RescaleCFG: Node {
    static let model = Input<DiffusionModel>("model")
    static let multiplier = Input.float("multiplier", default: 0.7, min: 0, max: 1, step: 0.01)

    public static let schema = NodeSchema(
        "RescaleCFG", category: "advanced/model", inputs: [model, multiplier],
        outputs: outputs(Output<DiffusionModel>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let multiplier = try inputs[Self.multiplier]
        return NodeOutputs(
            try inputs[Self.model].addingGuidance(
                GuidancePatch(name: "RescaleCFG") { _ in
                    .cfg { try GuidanceFunctions.rescaleCFG($0, multiplier: multiplier) }
                }))
    }
}

/// CFG-Zero*: scales the negative by the optimal projection of the positive onto it.
///
/// Matches: ComfyUI `comfy_extras/nodes_cfg.py` `CFGZeroStar` (a `sampler_post_cfg_function`).
public struct CFGZeroStar: Node {
    static let model = Input<DiffusionModel>("model")

    public static let schema = NodeSchema(
        "CFGZeroStar", category: "advanced/guidance", inputs: [model],
        outputs: outputs(Output<DiffusionModel>("patched_model")))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(
            try inputs[Self.model].addingGuidance(
                GuidancePatch(name: "CFGZeroStar") { _ in
                    .postCFG { try GuidanceFunctions.cfgZeroStar($0, denoised: $1) }
                }))
    }
}

/// Caps the guided prediction's per-pixel channel norm at the positive's, times `strength`.
///
/// Matches: ComfyUI `comfy_extras/nodes_cfg.py` `CFGNorm` (a `sampler_post_cfg_function`).
public struct CFGNorm: Node {
    static let model = Input<DiffusionModel>("model")
    static let strength = Input.float("strength", default: 1.0, min: 0, max: 100, step: 0.01)

    public static let schema = NodeSchema(
        "CFGNorm", category: "advanced/guidance", inputs: [model, strength],
        outputs: outputs(Output<DiffusionModel>("patched_model")))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let strength = try inputs[Self.strength]
        return NodeOutputs(
            try inputs[Self.model].addingGuidance(
                GuidancePatch(name: "CFGNorm") { _ in
                    .postCFG { try GuidanceFunctions.cfgNorm($0, denoised: $1, strength: strength) }
                }))
    }
}

/// Tangential Damping CFG: the negative keeps only its component along the predictions' principal direction.
///
/// Matches: ComfyUI `comfy_extras/nodes_tcfg.py` `TCFG` (a `sampler_pre_cfg_function`).
public struct TCFG: Node {
    static let model = Input<DiffusionModel>("model")

    public static let schema = NodeSchema(
        "TCFG", displayName: "Tangential Damping CFG", category: "advanced/guidance",
        description: "TCFG – Tangential Damping CFG (2503.18137)\n\n"
            + "Refine the uncond (negative) to align with the cond (positive) for improving quality.",
        inputs: [model], outputs: outputs(Output<DiffusionModel>("patched_model")))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(
            try inputs[Self.model].addingGuidance(
                GuidancePatch(name: "TCFG") { _ in .preCFG { try GuidanceFunctions.tangentialDamping($0) } }))
    }
}

/// Epsilon Scaling (exposure bias): divides the guided noise prediction by `scaling_factor`.
///
/// Matches: ComfyUI `comfy_extras/nodes_eps.py` `EpsilonScaling` (a `sampler_post_cfg_function`).
public struct EpsilonScaling: Node {
    static let model = Input<DiffusionModel>("model")
    static let scalingFactor = Input.float("scaling_factor", default: 1.005, min: 0.5, max: 1.5, step: 0.001)

    public static let schema = NodeSchema(
        "Epsilon Scaling", category: "model_patches/unet", inputs: [model, scalingFactor],
        outputs: outputs(Output<DiffusionModel>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let factor = try inputs[Self.scalingFactor]
        return NodeOutputs(
            try inputs[Self.model].addingGuidance(
                GuidancePatch(name: "Epsilon Scaling") { _ in
                    .postCFG { try GuidanceFunctions.epsilonScaling($0, denoised: $1, scalingFactor: factor) }
                }))
    }
}
