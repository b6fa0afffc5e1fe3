import LatentflowGraph
import LatentflowTensor

/// ModelComputeDtype: sets the dtype the UNet computes in (ComfyUI's `set_model_compute_dtype`).
/// bf16 runs the UNet's convolutions and linear layers on bfloat16 inputs with float32 sums
/// (`ProductPrecision.bfloat16`, fast on CPUs with AVX512-BF16, emulated elsewhere); fp32 computes
/// in float32; "default" takes the engine's choice (`--bf16-unet`, else float32). fp16 computes in
/// float32, as ComfyUI on a CPU does for float16 weights, and says so in a warning.
///
/// Matches: ComfyUI `comfy_extras/nodes_model_advanced.py` `ModelComputeDtype`.
public struct ModelComputeDtype: Node {
    static let model = Input<DiffusionModel>("model")
    static let dtype = Input.combo("dtype", options: ["default", "fp32", "fp16", "bf16"])
    public static let schema = NodeSchema(
        "ModelComputeDtype", category: "advanced/debug/model", inputs: [model, dtype],
        outputs: outputs(Output<DiffusionModel>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var model = try inputs[Self.model]
        switch try inputs[Self.dtype] {
        case "bf16":
            model.computePrecision = .bfloat16
            if !BFloat16GEMM.hasNativeKernel {
                context.warn(
                    "ModelComputeDtype: this CPU has no AVX512-BF16, so bf16's products are emulated in float32 "
                        + "(the same rounding, slower than fp32)")
            }
        case "fp16":
            model.computePrecision = .float32
            context.warn("ModelComputeDtype: Latentflow computes the UNet in float32 on CPU; fp16 is not applied")
        case "fp32": model.computePrecision = .float32
        default: model.computePrecision = context.environment.builtinSettings.unetPrecision
        }
        return NodeOutputs(model)
    }
}
