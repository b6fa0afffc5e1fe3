import LatentflowGraph

/// Sets the guidance scale an LCM-distilled UNet's guidance embedding encodes (Latentflow node;
/// ComfyUI has none: diffusers' LCM pipeline passes guidance_scale − 1). No effect on other UNets.
public struct LCMGuidanceScale: Node {
    static let model = Input<DiffusionModel>("model")
    static let guidanceScale = Input.float(
        "guidance_scale", default: 8.5, min: 1, max: 30, step: 0.1,
        tooltip: "diffusers' guidance_scale; the embedding encodes guidance_scale − 1.")

    public static let schema = NodeSchema(
        "LCMGuidanceScale", displayName: "LCM Guidance Scale", category: "advanced/model",
        description:
            "For LCM-distilled checkpoints with a guidance embedding (time_cond_proj, e.g. LCM_Dreamshaper_v7): the guidance it encodes.",
        inputs: [model, guidanceScale], outputs: outputs(Output<DiffusionModel>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var model = try inputs[Self.model]
        if model.unet.config.guidanceEmbeddingDim == nil {
            context.warn("this model has no guidance embedding; LCMGuidanceScale changes nothing")
        }
        model.lcmGuidance = Float(try inputs[Self.guidanceScale] - 1)
        return NodeOutputs(model)
    }
}
