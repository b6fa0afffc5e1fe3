import LatentflowGraph
import LatentflowModels
import LatentflowTensor

/// Encodes a prompt with ComfyUI's syntax (`(word:1.2)`, 77-token chunks) into CONDITIONING.
public struct CLIPTextEncode: Node {
    static let text = Input.string("text", multiline: true, tooltip: "The text to be encoded.")
    static let clip = Input<TextEncoder>("clip", tooltip: "The CLIP model used for encoding the text.")

    public static let schema = NodeSchema(
        "CLIPTextEncode", displayName: "CLIP Text Encode (Prompt)", category: "conditioning",
        description:
            "Encodes a text prompt using a CLIP model into an embedding that can be used to guide the diffusion model towards generating specific images.",
        inputs: [text, clip],
        outputs: outputs(
            Output<Conditioning>(
                tooltip: "A conditioning containing the embedded text used to guide the diffusion model.")))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let encoder = try inputs[Self.clip]
        let files = context.environment.files
        let key = encoder.model.config.embeddingKey
        let lookup: EmbeddingLookup = { name in
            TextualInversion.load(name, key: key) { try files.locate($0, in: "embeddings") }
        }
        let embedding = try encoder.promptEncoder.encode(try inputs[Self.text], embeddings: lookup) { name in
            context.warn(
                "embedding:\(name) does not exist (looked in \(files.searchPaths(for: "embeddings").joined(separator: ", "))), ignoring"
            )
        }
        return NodeOutputs(Conditioning([Conditioning.Entry(embedding: embedding)]))
    }
}
