import LatentflowGraph
import LatentflowModels

// ComfyUI's CLIP merge nodes (`comfy_extras/nodes_model_merging.py`): as the model merges, on
// the text encoder's weights, skipping `position_ids` and `logit_scale`.

private let clip1 = Input<TextEncoder>("clip1")
private let clip2 = Input<TextEncoder>("clip2")

/// `CLIPMergeSimple`: `ratio · clip1 + (1 − ratio) · clip2`.
public struct CLIPMergeSimple: Node {
    static let ratio = Input.float("ratio", default: 1.0, min: 0.0, max: 1.0, step: 0.01)
    public static let schema = NodeSchema(
        "CLIPMergeSimple", category: "advanced/model_merging", inputs: [clip1, clip2, ratio],
        outputs: outputs(Output<TextEncoder>()))
    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let ratio = try inputs[Self.ratio]
        let strengths = WeightMerge.Strengths(patch: 1.0 - ratio, model: ratio)
        return NodeOutputs(
            try MergeAdapter.merge(try inputs[clip1], try inputs[clip2], context: context) { _ in strengths })
    }
}

/// `CLIPMergeSubtract` (ComfyUI's `CLIPSubtract`): `multiplier · (clip1 − clip2)`.
public struct CLIPMergeSubtract: Node {
    static let multiplier = Input.float("multiplier", default: 1.0, min: -10.0, max: 10.0, step: 0.01)
    public static let schema = NodeSchema(
        "CLIPMergeSubtract", category: "advanced/model_merging", inputs: [clip1, clip2, multiplier],
        outputs: outputs(Output<TextEncoder>()))
    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let multiplier = try inputs[Self.multiplier]
        let strengths = WeightMerge.Strengths(patch: -multiplier, model: multiplier)
        return NodeOutputs(
            try MergeAdapter.merge(try inputs[clip1], try inputs[clip2], context: context) { _ in strengths })
    }
}

/// `CLIPMergeAdd` (ComfyUI's `CLIPAdd`): `clip1 + clip2`.
public struct CLIPMergeAdd: Node {
    public static let schema = NodeSchema(
        "CLIPMergeAdd", category: "advanced/model_merging", inputs: [clip1, clip2],
        outputs: outputs(Output<TextEncoder>()))
    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let strengths = WeightMerge.Strengths(patch: 1, model: 1)
        return NodeOutputs(
            try MergeAdapter.merge(try inputs[clip1], try inputs[clip2], context: context) { _ in strengths })
    }
}
