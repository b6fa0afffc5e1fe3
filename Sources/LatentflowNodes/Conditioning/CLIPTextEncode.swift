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
        let lookup: EmbeddingLookup = { name in TextualInversion.load(name, key: key, files: files) }
        let embedding = try Self.encode(try inputs[Self.text], with: encoder, embeddings: lookup) { name in
            context.warn("embedding:\(name) does not exist (looked in \(files.searchPaths(for: "embeddings").joined(separator: ", "))), ignoring")
        }
        return NodeOutputs(Conditioning([Conditioning.Entry(embedding: embedding)]))
    }

    /// ComfyUI's `encode_token_weights`: all chunks in one batch, plus the empty prompt when any
    /// weight differs from 1; weighted tokens move away from the empty prompt's encoding,
    /// `z = (z − z_empty)·w + z_empty`; chunks concatenated along the tokens.
    static func encode(_ prompt: String, with encoder: TextEncoder, embeddings: EmbeddingLookup? = nil,
                       missing: ((String) -> Void)? = nil) throws -> Tensor {
        let padToken = encoder.model.config.padToken
        let chunks = encoder.tokenizer.tokenizeWithWeights(prompt, padToken: padToken, embeddings: embeddings, missing: missing)
        let hasWeights = chunks.contains { $0.contains { $0.weight != 1 } }
        var sequences = chunks
        if hasWeights {
            let length = sequences[0].count
            // ComfyUI's gen_empty_tokens: BOS, EOS, then padding.
            sequences.append(([CLIPTokenizer.startToken, CLIPTokenizer.endToken] + Array(repeating: padToken, count: length - 2)).map { WeightedToken(id: $0, weight: 1) })
        }
        let encoded = try encoder.model.encode(sequences, lastLayer: encoder.lastLayer)   // [k(+1), 77, width]
        let (tokens, width) = (encoded.dim(1), encoded.dim(2))
        var out = try encoded.slice(axis: 0, start: 0, length: chunks.count)
        if hasWeights {
            let empty = Array(encoded.scalars[(chunks.count * tokens * width)...])
            out.withUnsafeMutableBufferPointer { z in
                for (k, chunk) in chunks.enumerated() {
                    for (j, token) in chunk.enumerated() where token.weight != 1 {
                        let w = Float(token.weight)
                        for c in 0..<width {
                            let i = (k * tokens + j) * width + c
                            z[i] = (z[i] - empty[j * width + c]) * w + empty[j * width + c]
                        }
                    }
                }
            }
        }
        return try out.reshaped([1, chunks.count * tokens, width])
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
