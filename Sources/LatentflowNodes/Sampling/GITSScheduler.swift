import LatentflowGraph
import LatentflowSampling

/// GITS's searched SD1.5 schedules (ComfyUI `comfy_extras/nodes_gits.py`); the schedule itself
/// is `GITSSchedule` (LatentflowSampling).
public struct GITSScheduler: Node {
    static let coeff = Input.float("coeff", default: 1.20, min: 0.80, max: 1.50, step: 0.05)
    static let steps = Input.int("steps", default: 10, min: 2, max: 1000)
    static let denoise = Input.float("denoise", default: 1.0, min: 0, max: 1, step: 0.01)
    public static let schema = NodeSchema(
        "GITSScheduler", category: "sampling/custom_sampling/schedulers", inputs: [coeff, steps, denoise],
        outputs: outputs(Output<Sigmas>()))
    public init() {}
    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let sigmas = try GITSSchedule.sigmas(
            coeff: try inputs[Self.coeff], steps: try inputs[Self.steps], denoise: try inputs[Self.denoise])
        return NodeOutputs(Sigmas(values: sigmas))
    }
}
