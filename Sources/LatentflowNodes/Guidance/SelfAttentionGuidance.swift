import Foundation
import LatentflowGraph
import LatentflowModels
import LatentflowSampling
import LatentflowTensor

/// Self-Attention Guidance: the unconditional x0 prediction blurred where the middle block's
/// self-attention looks most, re-noised and predicted again, and the guidance pushed away from
/// that degraded prediction by `scale`.
///
/// Matches: ComfyUI `comfy_extras/nodes_sag.py` `SelfAttentionGuidance` (an `attn1` replace patch at
/// `("middle", 0, 0)` that records the uncond call's attention probabilities, and a
/// `sampler_post_cfg_function` with `disable_cfg1_optimization`). Sigma 0 leaves x0 unblurred
/// (`SelfAttentionBlur.gaussianBlur`) where ComfyUI's kernel is NaN.
public struct SelfAttentionGuidance: Node {
    static let model = Input<DiffusionModel>("model")
    static let scale = Input.float("scale", default: 0.5, min: -2.0, max: 5.0, step: 0.01)
    static let blurSigma = Input.float("blur_sigma", default: 2.0, min: 0.0, max: 10.0, step: 0.1)

    public static let schema = NodeSchema(
        "SelfAttentionGuidance", displayName: "Self-Attention Guidance", category: "_for_testing",
        inputs: [model, scale, blurSigma], outputs: outputs(Output<DiffusionModel>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let (scale, sigma) = (Float(try inputs[Self.scale]), Float(try inputs[Self.blurSigma]))
        let patch = GuidancePatch(name: "SelfAttentionGuidance", disablesCFG1Optimization: true) { run in
            let recorder = AttentionMassRecorder()
            run.replaceNegativeMiddleSelfAttention { q, k, v, heads in
                recorder.store(try SelfAttentionBlur.keyAttentionMass(query: q, key: k, heads: heads))
                return try q.attention(key: k, value: v, heads: heads)
            }
            let negative = try run.entries(run.negative)
            return .postCFG { p, denoised in
                // ComfyUI skips latents too small for the blur's reflect padding.
                if min(denoised.dim(2), denoised.dim(3)) <= 4 { return denoised }
                guard let mass = recorder.latest else {
                    throw NodeError("SelfAttentionGuidance: the unconditional call recorded no middle-block attention")
                }
                let degraded = try SelfAttentionBlur.blurred(p.uncond, keyMass: mass, sigma: sigma)
                let renoised = try degraded.adding(p.x).subtracting(p.uncond)
                let sag = try CFGGuidance.predict(negative, renoised, p.sigma)
                return try denoised.adding(degraded.subtracting(sag).scaled(by: scale))
            }
        }
        return NodeOutputs(try inputs[Self.model].addingGuidance(patch))
    }
}

/// The key attention mass of the latest unconditional UNet call (ComfyUI's `attn_scores`, which
/// likewise keeps only one call's).
final class AttentionMassRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var mass: Tensor?

    func store(_ value: Tensor) {
        lock.lock()
        defer { lock.unlock() }
        mass = value
    }

    var latest: Tensor? {
        lock.lock()
        defer { lock.unlock() }
        return mass
    }
}
