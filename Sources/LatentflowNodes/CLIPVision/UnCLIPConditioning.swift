import LatentflowGraph
import LatentflowModels
import LatentflowSampling
import LatentflowTensor

/// Adds a CLIP vision encoding's image embeddings, with a strength and a noise-augmentation level,
/// to every conditioning entry, for an unCLIP UNet's `y` input.
///
/// Matches: ComfyUI `nodes.py` `unCLIPConditioning` (appended to the entry's earlier ones; strength
/// 0 returns the conditioning unchanged). The embeddings become `y` in
/// `UnCLIPNoiseAugmentation.adm`, as ComfyUI's `SD21UNCLIP.encode_adm` makes it.
public struct UnCLIPConditioning: Node {
    static let conditioning = Input<Conditioning>("conditioning")
    static let visionOutput = Input<CLIPVisionEncoding>("clip_vision_output")
    static let strength = Input.float("strength", default: 1, min: -10, max: 10, step: 0.01)
    static let noiseAugmentation = Input.float("noise_augmentation", default: 0, min: 0, max: 1, step: 0.01)

    public static let schema = NodeSchema(
        "unCLIPConditioning", category: "conditioning",
        inputs: [conditioning, visionOutput, strength, noiseAugmentation], outputs: outputs(Output<Conditioning>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var result = try inputs[Self.conditioning]
        let strength = try inputs[Self.strength]
        if strength == 0 { return NodeOutputs(result) }
        let embeddings = try inputs[Self.visionOutput].output.imageEmbeds
        guard embeddings.rank == 2 else {
            throw NodeError(
                "unCLIPConditioning: clip_vision_output has image embeddings \(embeddings.shape), not [N, D]")
        }
        let image = UnCLIPNoiseAugmentation.Image(
            embeddings: embeddings, strength: strength, noiseAugmentation: try inputs[Self.noiseAugmentation])
        for index in result.entries.indices { result.entries[index].unclip.append(image) }
        return NodeOutputs(result)
    }
}
