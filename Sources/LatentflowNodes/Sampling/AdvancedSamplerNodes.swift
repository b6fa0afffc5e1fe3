import LatentflowGraph
import LatentflowSampling

// The samplers of ComfyUI `comfy_extras/nodes_advanced_samplers.py`.

public struct SamplerEulerCFGpp: Node {
    static let version = Input.combo("version", options: ["regular", "alternative"])
    public static let schema = NodeSchema(
        "SamplerEulerCFGpp", displayName: "SamplerEulerCFG++", category: "_for_testing", inputs: [version],
        outputs: outputs(Output<SamplerChoice>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        // "regular" is the euler_cfg_pp menu sampler itself.
        guard try inputs[Self.version] == "alternative" else { return NodeOutputs(SamplerChoice(name: .eulerCFGPP)) }
        return NodeOutputs(SamplerChoice(name: .eulerCFGPP, custom: SamplerOptions.eulerCFGPPAlternative()))
    }
}

public struct SamplerLCMUpscale: Node {
    static let scaleRatio = Input.float("scale_ratio", default: 1, min: 0.1, max: 20, step: 0.01)
    static let scaleSteps = Input.int("scale_steps", default: -1, min: -1, max: 1000, step: 1)
    static let upscaleMethod = Input.combo(
        "upscale_method", options: ["bislerp", "nearest-exact", "bilinear", "area", "bicubic"])
    public static let schema = NodeSchema(
        "SamplerLCMUpscale", category: "sampling/custom_sampling/samplers",
        inputs: [scaleRatio, scaleSteps, upscaleMethod], outputs: outputs(Output<SamplerChoice>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let steps = try inputs[Self.scaleSteps], method = try inputs[Self.upscaleMethod]
        let algorithm = LCMUpscale(totalUpscale: try inputs[Self.scaleRatio], upscaleSteps: steps < 0 ? nil : steps) {
            latent, width, height in
            try commonUpscale(latent, width: width, height: height, method: method, crop: "disabled")
        }
        return NodeOutputs(SamplerChoice(name: .lcm, custom: algorithm))
    }
}
