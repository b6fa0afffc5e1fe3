import LatentflowGraph
import LatentflowModels
import LatentflowSampling

/// Perturbed-Attention Guidance: a second positive prediction with the middle block's
/// self-attention replaced by identity (each token keeps its own value), pushed away from by `scale`.
///
/// Matches: ComfyUI `comfy_extras/nodes_pag.py` `PerturbedAttentionGuidance` (a
/// `sampler_post_cfg_function` with an `attn1` replace patch at `("middle", 0)`).
public struct PerturbedAttentionGuidance: Node {
    static let model = Input<DiffusionModel>("model")
    static let scale = Input.float("scale", default: 3.0, min: 0, max: 100, step: 0.01)

    public static let schema = NodeSchema(
        "PerturbedAttentionGuidance", category: "model_patches/unet", inputs: [model, scale],
        outputs: outputs(Output<DiffusionModel>()))

    public init() {}

    /// ComfyUI's `perturbed_attention`: the attention returns v.
    static let identityAttention: AttentionReplacement = { _, _, value, _ in value }

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let scale = try inputs[Self.scale]
        let patch = GuidancePatch(name: "PerturbedAttentionGuidance") { run in
            let perturbed = try run.entries(run.positive, middleSelfAttention: Self.identityAttention)
            return .postCFG { p, denoised in
                if scale == 0 { return denoised }
                let pag = try CFGGuidance.predict(perturbed, p.x, p.sigma)
                return try denoised.adding(p.cond.subtracting(pag).scaled(by: Float(scale)))
            }
        }
        return NodeOutputs(try inputs[Self.model].addingGuidance(patch))
    }
}
