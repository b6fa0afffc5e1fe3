import LatentflowGraph
import LatentflowSampling
import LatentflowTensor

/// Gaussian noise added to each pixel, clipped to 0...1.
///
/// Matches: ComfyUI `comfy_extras/nodes_images.py` `ImageAddNoise.execute`: the noise is
/// `torch.randn(image.size())` from `torch.manual_seed(seed)` on the CPU (TorchCPUGenerator draws
/// the same stream), then `clip(image + strength · noise, 0, 1)` in float32.
public struct ImageAddNoise: Node {
    static let image = Input<ImageBatch>("image")
    static let seed = Input.seed("seed", tooltip: "The random seed used for creating the noise.")
    static let strength = Input.float("strength", default: 0.5, min: 0, max: 1, step: 0.01)

    public static let schema = NodeSchema(
        "ImageAddNoise", category: "image", inputs: [image, seed, strength], outputs: outputs(Output<ImageBatch>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let image = try inputs[Self.image]
        var generator = TorchCPUGenerator(seed: UInt64(bitPattern: Int64(try inputs[Self.seed])))
        let noise = try generator.randn(image.pixels.shape)
        // torch multiplies the float32 noise by the Python float rounded to float32.
        let strength = Float(try inputs[Self.strength])
        let noisy = try image.pixels.adding(noise.scaled(by: strength))
        return NodeOutputs(ImageBatch(noisy.clamped(min: 0, max: 1)))
    }
}
