import LatentflowGraph
import LatentflowModels
import LatentflowTensor

/// Gives the ControlNets of every conditioning entry their own text: the prompt is encoded as
/// CLIPTextEncode encodes it and stored as the entry's `controlContext`, which the ControlNets
/// attend to while the UNet keeps the entry's own tokens.
///
/// Matches: ComfyUI `comfy_extras/nodes_cond.py` `CLIPTextEncodeControlnet` (`cross_attn_controlnet`,
/// read by `comfy/controlnet.py` `ControlNet.get_control`). Its `pooled_output_controlnet` only
/// feeds SDXL-style ControlNets' `y`, which SD1.x ControlNets do not take, so it is not kept.
public struct CLIPTextEncodeControlnet: Node {
    static let clip = Input<TextEncoder>("clip")
    static let conditioning = Input<Conditioning>("conditioning")
    static let text = Input.string("text", multiline: true)

    public static let schema = NodeSchema(
        "CLIPTextEncodeControlnet", category: "_for_testing/conditioning", inputs: [clip, conditioning, text],
        outputs: outputs(Output<Conditioning>()))

    public init() {}

    public static func validate(_ constants: NodeConstants, environment: ExecutionEnvironment) -> String? {
        (constants["text"] as? String).flatMap(PromptLimits.problem).map { "text: \($0)" }
    }

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        // CLIPTextEncode's encoding, textual-inversion lookups and warnings included.
        let encoded = try await CLIPTextEncode().execute(
            NodeInputs(["clip": try inputs[Self.clip], "text": try inputs[Self.text]]), context: context)
        guard let tokens = (encoded.values.first as? Conditioning)?.entries.first?.embedding else {
            throw NodeError("CLIPTextEncodeControlnet: the text encoder returned no conditioning")
        }
        var result = try inputs[Self.conditioning]
        for index in result.entries.indices { result.entries[index].controlContext = tokens }
        return NodeOutputs(result)
    }
}
