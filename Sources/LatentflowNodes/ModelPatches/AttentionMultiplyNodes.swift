import LatentflowGraph
import LatentflowModels

// The attention-multiply experiments (ComfyUI `comfy_extras/nodes_attention_multiply.py`): each
// scales the q/k/v/out projection weights of one kind of attention and rebuilds the model from
// them (as the merge nodes do), leaving the model it was given unchanged.

private let category = "_for_testing/attention_experiments"

private func makeFactorInputs() -> [Input<Double>] {
    ["q", "k", "v", "out"].map { Input.float($0, default: 1, min: 0, max: 10, step: 0.01) }
}

private func factors(_ inputs: NodeInputs, _ declared: [Input<Double>]) throws -> AttentionMultiply.Factors {
    AttentionMultiply.Factors(
        q: try inputs[declared[0]], k: try inputs[declared[1]], v: try inputs[declared[2]],
        out: try inputs[declared[3]])
}

/// The MODEL with one kind of UNet attention's projections scaled.
private func multiplied(_ model: DiffusionModel, attention: String, _ factors: AttentionMultiply.Factors) throws
    -> DiffusionModel
{
    guard !model.weights.isEmpty else { throw NodeError("this MODEL carries no weights to scale") }
    // ComfyUI keeps the UNet in float32 on CPU: the scaled weights stay float32.
    let (weights, count) = AttentionMultiply.apply(
        factors, layout: .unet(attention: attention), to: model.weights, float16: false)
    guard count > 0 else { return model }
    var result = model
    result.weights = weights
    result.unet = UNet(WeightStore(weights, source: "attention-multiplied model").root, config: model.unet.config)
    return result
}

public struct UNetSelfAttentionMultiply: Node {
    static let model = Input<DiffusionModel>("model")
    static let factorInputs = makeFactorInputs()
    public static let schema = NodeSchema(
        "UNetSelfAttentionMultiply", category: category,
        inputs: [model, factorInputs[0], factorInputs[1], factorInputs[2], factorInputs[3]],
        outputs: outputs(Output<DiffusionModel>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(try multiplied(try inputs[Self.model], attention: "attn1", factors(inputs, Self.factorInputs)))
    }
}

public struct UNetCrossAttentionMultiply: Node {
    static let model = Input<DiffusionModel>("model")
    static let factorInputs = makeFactorInputs()
    public static let schema = NodeSchema(
        "UNetCrossAttentionMultiply", category: category,
        inputs: [model, factorInputs[0], factorInputs[1], factorInputs[2], factorInputs[3]],
        outputs: outputs(Output<DiffusionModel>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(try multiplied(try inputs[Self.model], attention: "attn2", factors(inputs, Self.factorInputs)))
    }
}

public struct CLIPAttentionMultiply: Node {
    static let clip = Input<TextEncoder>("clip")
    static let factorInputs = makeFactorInputs()
    public static let schema = NodeSchema(
        "CLIPAttentionMultiply", category: category,
        inputs: [clip, factorInputs[0], factorInputs[1], factorInputs[2], factorInputs[3]],
        outputs: outputs(Output<TextEncoder>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let clip = try inputs[Self.clip]
        guard !clip.weights.isEmpty else { throw NodeError("this CLIP carries no weights to scale") }
        // ComfyUI keeps the text encoder in float16 on CPU: scaled weights are rounded back to it.
        let (weights, count) = AttentionMultiply.apply(
            try factors(inputs, Self.factorInputs), layout: .clip, to: clip.weights, float16: clip.weightsAreFloat16)
        guard count > 0 else { return NodeOutputs(clip) }
        var result = clip
        result.weights = weights
        result.model = CLIPTextModel(
            WeightStore(weights, source: "attention-multiplied text encoder").root, config: clip.model.config)
        return NodeOutputs(result)
    }
}
