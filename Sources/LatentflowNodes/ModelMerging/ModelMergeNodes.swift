import LatentflowGraph
import LatentflowModels

// ComfyUI's `comfy_extras/nodes_model_merging.py`: each key of model2 patches a copy of model1
// as `W₁ · strength_model + strength_patch · W₂` (see `WeightMerge`).

private let model1 = Input<DiffusionModel>("model1")
private let model2 = Input<DiffusionModel>("model2")
private func ratioInput(_ name: String) -> Input<Double> {
    Input.float(name, default: 1.0, min: 0.0, max: 1.0, step: 0.01)
}

/// `ModelMergeSimple`: `ratio · model1 + (1 − ratio) · model2`.
public struct ModelMergeSimple: Node {
    static let ratio = ratioInput("ratio")
    public static let schema = NodeSchema(
        "ModelMergeSimple", category: "advanced/model_merging", inputs: [model1, model2, ratio],
        outputs: outputs(Output<DiffusionModel>()))
    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let ratio = try inputs[Self.ratio]
        let strengths = WeightMerge.Strengths(patch: 1.0 - ratio, model: ratio)
        return NodeOutputs(
            try MergeAdapter.merge(try inputs[model1], try inputs[model2], context: context) { _ in strengths })
    }
}

/// `ModelMergeSubtract` (ComfyUI's `ModelSubtract`): `multiplier · (model1 − model2)`.
public struct ModelMergeSubtract: Node {
    static let multiplier = Input.float("multiplier", default: 1.0, min: -10.0, max: 10.0, step: 0.01)
    public static let schema = NodeSchema(
        "ModelMergeSubtract", category: "advanced/model_merging", inputs: [model1, model2, multiplier],
        outputs: outputs(Output<DiffusionModel>()))
    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let multiplier = try inputs[Self.multiplier]
        let strengths = WeightMerge.Strengths(patch: -multiplier, model: multiplier)
        return NodeOutputs(
            try MergeAdapter.merge(try inputs[model1], try inputs[model2], context: context) { _ in strengths })
    }
}

/// `ModelMergeAdd` (ComfyUI's `ModelAdd`): `model1 + model2`.
public struct ModelMergeAdd: Node {
    public static let schema = NodeSchema(
        "ModelMergeAdd", category: "advanced/model_merging", inputs: [model1, model2],
        outputs: outputs(Output<DiffusionModel>()))
    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let strengths = WeightMerge.Strengths(patch: 1, model: 1)
        return NodeOutputs(
            try MergeAdapter.merge(try inputs[model1], try inputs[model2], context: context) { _ in strengths })
    }
}

/// What ModelMergeBlocks, ModelMergeSD1 and ModelMergeSD2 share: one ratio per block-name prefix,
/// the longest matching prefix deciding, the first ratio the default (ComfyUI passes the ratios
/// as keyword arguments and takes the first).
protocol BlockRatioMerge: Node {
    static var ratios: [Input<Double>] { get }
}

extension BlockRatioMerge {
    static func blockSchema(_ name: String, category: String) -> NodeSchema {
        NodeSchema(
            name, category: category, inputs: [model1, model2] as [any InputDeclaration] + ratios,
            outputs: outputs(Output<DiffusionModel>()))
    }

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let values = try Self.ratios.map { (prefix: $0.spec.name, ratio: try inputs[$0]) }
        let defaultRatio = values.first?.ratio ?? 1
        return NodeOutputs(
            try MergeAdapter.merge(try inputs[model1], try inputs[model2], context: context) { key in
                let ratio = WeightMerge.blockRatio(key, ratios: values, defaultRatio: defaultRatio)
                return WeightMerge.Strengths(patch: 1.0 - ratio, model: ratio)
            })
    }
}

/// `ModelMergeBlocks`: ratios for the `input…`, `middle…` and `out…` keys (`out` takes both
/// `output_blocks.*` and `out.*`); the rest (time embedding) takes `input`'s.
public struct ModelMergeBlocks: BlockRatioMerge {
    static let ratios = ["input", "middle", "out"].map(ratioInput)
    public static let schema = blockSchema("ModelMergeBlocks", category: "advanced/model_merging")
    public init() {}
}

/// The SD1.x UNet's blocks one by one (ComfyUI's `nodes_model_merging_model_specific.py`).
private let sd1BlockRatios =
    (["time_embed.", "label_emb."] + (0..<12).map { "input_blocks.\($0)." } + (0..<3).map { "middle_block.\($0)." }
    + (0..<12).map { "output_blocks.\($0)." } + ["out."]).map(ratioInput)

/// `ModelMergeSD1`: a ratio per UNet block.
public struct ModelMergeSD1: BlockRatioMerge {
    static let ratios = sd1BlockRatios
    public static let schema = blockSchema("ModelMergeSD1", category: "advanced/model_merging/model_specific")
    public init() {}
}

/// `ModelMergeSD2`: ComfyUI registers ModelMergeSD1's class under this name too (same blocks).
public struct ModelMergeSD2: BlockRatioMerge {
    static let ratios = sd1BlockRatios
    public static let schema = blockSchema("ModelMergeSD2", category: "advanced/model_merging/model_specific")
    public init() {}
}
