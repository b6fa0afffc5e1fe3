import LatentflowTensor

/// Encodes a prompt in ComfyUI's syntax (`(word:1.2)`, `embedding:NAME`, 77-token chunks) with a
/// CLIP text model: ComfyUI's `encode_token_weights`.
public struct WeightedPromptEncoder: Sendable {
    public let model: CLIPTextModel
    public let tokenizer: CLIPTokenizer
    /// -1 = the last layer, -2 = the penultimate (CLIPSetLastLayer).
    public let lastLayer: Int

    public init(model: CLIPTextModel, tokenizer: CLIPTokenizer = .shared, lastLayer: Int) {
        (self.model, self.tokenizer, self.lastLayer) = (model, tokenizer, lastLayer)
    }

    /// `[1, 77·k, width]`: all chunks in one batch, plus the empty prompt when any weight differs
    /// from 1; weighted tokens move away from the empty prompt's encoding,
    /// `z = (z − z_empty)·w + z_empty`; chunks concatenated along the tokens.
    /// - Parameters:
    ///   - embeddings: resolves `embedding:NAME` (textual inversion).
    ///   - missing: told each embedding name `embeddings` does not know (the reference is dropped).
    /// - Throws: `PromptLimitError` for a prompt past `PromptLimits`.
    public func encode(
        _ prompt: String, embeddings: EmbeddingLookup? = nil,
        missing: ((String) -> Void)? = nil
    ) throws -> Tensor {
        if let problem = PromptLimits.problem(prompt) { throw PromptLimitError(description: problem) }
        let padToken = model.config.padToken
        let chunks = tokenizer.tokenizeWithWeights(prompt, padToken: padToken, embeddings: embeddings, missing: missing)
        let hasWeights = chunks.contains { $0.contains { $0.weight != 1 } }
        var sequences = chunks
        if hasWeights {
            let length = sequences[0].count
            // ComfyUI's gen_empty_tokens: BOS, EOS, then padding.
            let empty =
                [CLIPTokenizer.startToken, CLIPTokenizer.endToken]
                + Array(repeating: padToken, count: length - 2)
            sequences.append(empty.map { WeightedToken(id: $0, weight: 1) })
        }
        let encoded = try model.encode(sequences, lastLayer: lastLayer)  // [k(+1), 77, width]
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

    /// `[1, width]`: the pooled output of the prompt's first 77-token chunk (ComfyUI's
    /// `encode_token_weights` returns `pooled[0:1]`; weights do not change it).
    public func pooled(
        _ prompt: String, embeddings: EmbeddingLookup? = nil, missing: ((String) -> Void)? = nil
    ) throws -> Tensor {
        if let problem = PromptLimits.problem(prompt) { throw PromptLimitError(description: problem) }
        let chunks = tokenizer.tokenizeWithWeights(
            prompt, padToken: model.config.padToken, embeddings: embeddings, missing: missing)
        return try model.pooled(Array(chunks.prefix(1)))
    }
}
