import LatentflowGraph

/// Stops the text encoder at an earlier layer ("clip skip"); the final LayerNorm still applies.
public struct CLIPSetLastLayer: Node {
    static let clip = Input<TextEncoder>("clip")
    static let stopAt = Input.int("stop_at_clip_layer", default: -1, min: -24, max: -1, step: 1)

    public static let schema = NodeSchema(
        "CLIPSetLastLayer", displayName: "CLIP Set Last Layer", category: "conditioning",
        inputs: [clip, stopAt], outputs: outputs(Output<TextEncoder>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var encoder = try inputs[Self.clip]
        let layer = try inputs[Self.stopAt]
        guard -layer <= encoder.model.config.layers else {
            throw NodeError(
                "stop_at_clip_layer \(layer) is deeper than the text encoder's \(encoder.model.config.layers) layers")
        }
        encoder.lastLayer = layer
        return NodeOutputs(encoder)
    }
}
