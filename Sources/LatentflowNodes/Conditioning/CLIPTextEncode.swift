import LatentflowGraph
import LatentflowModels
import LatentflowTensor

/// Encodes a prompt with ComfyUI's syntax (`(word:1.2)`, 77-token chunks) into CONDITIONING.
public struct CLIPTextEncode: Node {
    static let text = Input.string("text", multiline: true, tooltip: "The text to be encoded.")
    static let clip = Input<TextEncoder>("clip", tooltip: "The CLIP model used for encoding the text.")

    public static let schema = NodeSchema(
        "CLIPTextEncode", displayName: "CLIP Text Encode (Prompt)", category: "conditioning",
        description: "Encodes a text prompt using a CLIP model into an embedding that can be used to guide the diffusion model towards generating specific images.",
        inputs: [text, clip], outputs: outputs(Output<Conditioning>(tooltip: "A conditioning containing the embedded text used to guide the diffusion model.")))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let encoder = try inputs[Self.clip]
        let files = context.environment.files
        let key = encoder.model.config.embeddingKey
        let lookup: EmbeddingLookup = { name in
            TextualInversion.load(name, key: key) { try files.locate($0, in: "embeddings") }
        }
        let embedding = try encoder.promptEncoder.encode(try inputs[Self.text], embeddings: lookup) { name in
            context.warn("embedding:\(name) does not exist (looked in \(files.searchPaths(for: "embeddings").joined(separator: ", "))), ignoring")
        }
        return NodeOutputs(Conditioning([Conditioning.Entry(embedding: embedding)]))
    }
}

/// Both conditionings, as one list (each is evaluated and their predictions averaged).
public struct ConditioningCombine: Node {
    static let first = Input<Conditioning>("conditioning_1")
    static let second = Input<Conditioning>("conditioning_2")

    public static let schema = NodeSchema(
        "ConditioningCombine", displayName: "Conditioning (Combine)", category: "conditioning",
        inputs: [first, second], outputs: outputs(Output<Conditioning>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(Conditioning(try inputs[Self.first].entries + inputs[Self.second].entries))
    }
}

/// Restricts a conditioning to a rectangle of the image, with a strength.
public struct ConditioningSetArea: Node {
    static let conditioning = Input<Conditioning>("conditioning")
    static let width = Input.int("width", default: 64, min: 64, max: maxResolution, step: 8)
    static let height = Input.int("height", default: 64, min: 64, max: maxResolution, step: 8)
    static let x = Input.int("x", default: 0, min: 0, max: maxResolution, step: 8)
    static let y = Input.int("y", default: 0, min: 0, max: maxResolution, step: 8)
    static let strength = Input.float("strength", default: 1.0, min: 0, max: 10, step: 0.01)

    public static let schema = NodeSchema(
        "ConditioningSetArea", displayName: "Conditioning (Set Area)", category: "conditioning",
        inputs: [conditioning, width, height, x, y, strength], outputs: outputs(Output<Conditioning>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        // No VAE at hand: the area is in SD's latent pixels, as ComfyUI's `// 8`.
        let latent = LatentFormat.sd15.latentLength(forPixels:)
        let area = (height: latent(try inputs[Self.height]), width: latent(try inputs[Self.width]),
                    y: latent(try inputs[Self.y]), x: latent(try inputs[Self.x]))
        let strength = try inputs[Self.strength]
        let entries = try inputs[Self.conditioning].entries.map { entry -> Conditioning.Entry in
            var copy = entry
            copy.area = area
            copy.strength = strength
            return copy
        }
        return NodeOutputs(Conditioning(entries))
    }
}
