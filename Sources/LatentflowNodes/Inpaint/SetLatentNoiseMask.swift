import LatentflowGraph
import LatentflowTensor

/// Limits sampling to a mask: where it is 1 the latent is denoised, where 0 kept (every sampler
/// honours it, with any UNet).
///
/// Matches: ComfyUI `nodes.py` `SetLatentNoiseMask.set_mask` (the mask reshaped to `[B, 1, H, W]`).
public struct SetLatentNoiseMask: Node {
    static let samples = Input<Latent>("samples")
    static let mask = Input<Mask>("mask")

    public static let schema = NodeSchema(
        "SetLatentNoiseMask", displayName: "Set Latent Noise Mask", category: "latent/inpaint",
        inputs: [samples, mask], outputs: outputs(Output<Latent>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var latent = try inputs[Self.samples]
        latent.noiseMask = try maskPlanes(try inputs[Self.mask].values, input: "mask")
        return NodeOutputs(latent)
    }
}

/// A MASK as `[B, 1, H, W]` (`mask.reshape((-1, 1, H, W))`); a mask without two spatial
/// dimensions is refused, naming the input.
func maskPlanes(_ mask: Tensor, input: String) throws -> Tensor {
    guard mask.rank >= 2, mask.count > 0 else {
        throw NodeError("input '\(input)': a mask must be [H, W] or [B, H, W], got \(mask.shape)")
    }
    let (h, w) = (mask.dim(-2), mask.dim(-1))
    return try mask.reshaped([mask.count / (h * w), 1, h, w])
}
