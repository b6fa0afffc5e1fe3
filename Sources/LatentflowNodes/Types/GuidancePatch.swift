import LatentflowModels
import LatentflowSampling
import LatentflowTensor

/// A MODEL patch that changes guidance (ComfyUI's `model_options` sampler functions). A MODEL
/// keeps them in the order they were applied; patching copies the list, so the input MODEL is
/// never changed, and several patches compose as ComfyUI composes them.
public struct GuidancePatch: Sendable {
    /// The node that applied it, for messages.
    public let name: String
    /// The patch needs the negative even at cfg 1 (ComfyUI's `disable_cfg1_optimization`).
    public var disablesCFG1Optimization = false
    /// Makes the hook for one sampling run, which it may evaluate the model in (PAG, PerpNeg).
    let makeHook: @Sendable (GuidanceRun) throws -> GuidanceHook

    public init(
        name: String, disablesCFG1Optimization: Bool = false,
        makeHook: @escaping @Sendable (GuidanceRun) throws -> GuidanceHook
    ) {
        (self.name, self.disablesCFG1Optimization, self.makeHook) = (name, disablesCFG1Optimization, makeHook)
    }
}

/// What a guidance patch may use in one sampling run: the run's positive and negative
/// conditioning, and conditioning turned into guidance entries over the run's model (ComfyUI's
/// `calc_cond_batch` with the hook's own `model_options`).
public struct GuidanceRun {
    public let positive: Conditioning
    /// The negative as the run evaluates it (with the positive's uncond controls).
    public let negative: Conditioning
    let makeEntries: (Conditioning, AttentionReplacement?) throws -> [CFGGuidance.Entry]
    let negativeAttention = NegativeAttentionSlot()

    init(
        positive: Conditioning, negative: Conditioning = Conditioning([]),
        makeEntries: @escaping (Conditioning, AttentionReplacement?) throws -> [CFGGuidance.Entry]
    ) {
        (self.positive, self.negative, self.makeEntries) = (positive, negative, makeEntries)
    }

    /// Replaces the middle block's self-attention in the run's own negative (unconditional) calls,
    /// as an `attn1_replace` patch that acts only when `cond_or_uncond` holds the uncond (SAG's
    /// recording attention); a later call replaces an earlier one's.
    public func replaceNegativeMiddleSelfAttention(_ replacement: @escaping AttentionReplacement) {
        negativeAttention.replacement = replacement
    }

    /// `conditioning`'s entries; with `middleSelfAttention`, the UNet's middle-block self-attention
    /// is replaced in every call they make.
    public func entries(
        _ conditioning: Conditioning, middleSelfAttention: AttentionReplacement? = nil
    ) throws -> [CFGGuidance.Entry] {
        try makeEntries(conditioning, middleSelfAttention)
    }
}

extension DiffusionModel {
    /// A copy with `patch` added after the MODEL's other guidance patches.
    public func addingGuidance(_ patch: GuidancePatch) -> DiffusionModel {
        var model = self
        model.guidance.append(patch)
        return model
    }

    /// The hooks of the MODEL's guidance patches for one run, in their order.
    func guidanceHooks(_ run: GuidanceRun) throws -> GuidanceHooks {
        GuidanceHooks(
            try guidance.map { try $0.makeHook(run) },
            disableCFG1Optimization: guidance.contains { $0.disablesCFG1Optimization })
    }
}

/// The negative side's middle self-attention replacement, set by a patch while its hook is made,
/// before the run builds its negative entries.
final class NegativeAttentionSlot: @unchecked Sendable {
    var replacement: AttentionReplacement?
}
