import LatentflowGraph

/// ModelComputeDtype: in ComfyUI it sets the dtype the UNet computes in (`set_model_compute_dtype`;
/// "default" lets ComfyUI choose). Latentflow's UNet computes in float32 on CPU whatever the
/// weights' storage (ComfyUI's own CPU choice), so the MODEL passes through unchanged; fp16 and bf16
/// say so in a warning, since their rounding is not reproduced.
///
/// Matches: ComfyUI `comfy_extras/nodes_model_advanced.py` `ModelComputeDtype` (schema only).
public struct ModelComputeDtype: Node {
    static let model = Input<DiffusionModel>("model")
    static let dtype = Input.combo("dtype", options: ["default", "fp32", "fp16", "bf16"])
    public static let schema = NodeSchema(
        "ModelComputeDtype", category: "advanced/debug/model", inputs: [model, dtype],
        outputs: outputs(Output<DiffusionModel>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let dtype = try inputs[Self.dtype]
        if dtype == "fp16" || dtype == "bf16" {
            context.warn("ModelComputeDtype: Latentflow computes the UNet in float32 on CPU; \(dtype) is not applied")
        }
        return NodeOutputs(try inputs[Self.model])
    }
}
