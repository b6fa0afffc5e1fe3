import LatentflowGraph
import LatentflowSampling

/// The deprecated Perp-Neg MODEL patch: its cfg function runs the empty conditioning as a
/// third prediction and combines the three with Perp-Neg.
///
/// Matches: ComfyUI `comfy_extras/nodes_perpneg.py` `PerpNeg` (a `sampler_cfg_function`).
public struct PerpNeg: Node {
    static let model = Input<DiffusionModel>("model")
    static let emptyConditioning = Input<Conditioning>("empty_conditioning")
    static let negScale = Input.float("neg_scale", default: 1.0, min: 0, max: 100, step: 0.01)

    public static let schema = NodeSchema(
        "PerpNeg", displayName: "Perp-Neg (DEPRECATED by PerpNegGuider)", category: "_for_testing",
        inputs: [model, emptyConditioning, negScale], outputs: outputs(Output<DiffusionModel>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let empty = try inputs[Self.emptyConditioning], negScale = try inputs[Self.negScale]
        let patch = GuidancePatch(name: "PerpNeg") { run in
            let entries = try run.entries(empty)
            return .cfg { p in
                let nocond = try CFGGuidance.predict(entries, p.x, p.sigma)
                return try PerpNegGuidance.perpNeg(
                    positive: p.cond, negative: p.uncond, empty: nocond, negScale: negScale, cfg: p.cfg)
            }
        }
        return NodeOutputs(try inputs[Self.model].addingGuidance(patch))
    }
}

/// A GUIDER that guides with Perp-Neg: positive, negative and an empty prompt.
///
/// Matches: ComfyUI `comfy_extras/nodes_perpneg.py` `PerpNegGuider` / `Guider_PerpNeg`.
public struct PerpNegGuider: Node {
    static let model = Input<DiffusionModel>("model")
    static let positive = Input<Conditioning>("positive")
    static let negative = Input<Conditioning>("negative")
    static let emptyConditioning = Input<Conditioning>("empty_conditioning")
    static let cfg = Input.float("cfg", default: 8.0, min: 0, max: 100, step: 0.1)
    static let negScale = Input.float("neg_scale", default: 1.0, min: 0, max: 100, step: 0.01)

    public static let schema = NodeSchema(
        "PerpNegGuider", category: "_for_testing",
        inputs: [model, positive, negative, emptyConditioning, cfg, negScale], outputs: outputs(Output<Guider>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var guider = Guider(
            model: try inputs[Self.model], positive: try inputs[Self.positive], negative: try inputs[Self.negative],
            cfg: try inputs[Self.cfg])
        guider.perpNeg = (try inputs[Self.emptyConditioning], try inputs[Self.negScale])
        return NodeOutputs(guider)
    }
}
