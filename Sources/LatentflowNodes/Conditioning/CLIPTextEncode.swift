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

    /// A constant prompt past `PromptLimits` is refused before anything runs.
    public static func validate(_ constants: NodeConstants, environment: ExecutionEnvironment) -> String? {
        (constants["text"] as? String).flatMap(PromptLimits.problem).map { "text: \($0)" }
    }

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let encoder = try inputs[Self.clip]
        let files = context.environment.files
        let config = encoder.model.config
        // Files that exist but cannot be read (the reason names the file), so the warning
        // gives the real reason instead of claiming there is no such embedding.
        var unreadable: [String: String] = [:]
        let lookup: EmbeddingLookup = { name in
            let found = TextualInversion.find(name, key: config.embeddingKey, width: config.width) {
                try files.locate($0, in: "embeddings")
            }
            if case let .unreadable(_, reason) = found { unreadable[name] = reason }
            return found.tensor
        }
        let text = try inputs[Self.text]
        // SetClipHooks' hooks patch the model (once per keyframe span when it schedules them).
        let entries = try HookedTextEncoding.entries(encoder) { encoder in
            let embedding = try encoder.promptEncoder.encode(text, embeddings: lookup) { name in
                if let reason = unreadable[name] {
                    context.warn("embedding:\(name) could not be read (\(reason)), ignoring")
                } else {
                    let folders = files.searchPaths(for: "embeddings").joined(separator: ", ")
                    context.warn("embedding:\(name) does not exist (looked in \(folders)), ignoring")
                }
            }
            return Conditioning.Entry(embedding: embedding)
        }
        return NodeOutputs(Conditioning(entries))
    }
}
