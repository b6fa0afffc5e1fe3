import LatentflowTensor

/// CLIP's text transformer (HF `CLIPTextModel` keys under `text_model.`; OpenCLIP files are renamed
/// to these by `OpenCLIPTextKeyMap`): token and position embeddings, pre-LayerNorm blocks with
/// causal self-attention and (quick-)GELU MLPs, final LayerNorm.
public struct CLIPTextModel: Sendable {
    public let config: CLIPTextConfiguration
    let tokenEmbedding: Parameter
    let positionEmbedding: Tensor
    let layers: [CLIPEncoderLayer]
    let finalNorm: LayerNorm

    public init(_ scope: WeightScope, config: CLIPTextConfiguration = .vitL14) {
        self.config = config
        tokenEmbedding = scope.parameter(
            "embeddings.token_embedding.weight", shape: [config.vocabularySize, config.width])
        positionEmbedding = scope.tensor(
            "embeddings.position_embedding.weight", shape: [config.positions, config.width])
        layers = (0..<config.layers).map {
            CLIPEncoderLayer(
                scope["encoder.layers.\($0)"], width: config.width, mlpWidth: config.mlpWidth, heads: config.heads,
                activation: config.activation)
        }
        finalNorm = LayerNorm(scope["final_layer_norm"], width: config.width)
    }

    /// Hidden states for token sequences `[N][T]`, after layer `lastLayer` (-1 = the last,
    /// -2 = the penultimate, as CLIPSetLastLayer), with the final LayerNorm applied either way.
    public func encode(_ tokens: [[Int]], lastLayer: Int = -1) throws -> Tensor {
        try encode(tokens.map { $0.map { WeightedToken(id: $0, weight: 1) } }, lastLayer: lastLayer)
    }

    /// Like `encode`, where token slots may carry an embedding vector that replaces the token's
    /// own embedding (textual inversion); vectors of another width are ignored (the token stays).
    public func encode(_ tokens: [[WeightedToken]], lastLayer: Int = -1) throws -> Tensor {
        let n = tokens.count, t = tokens.first?.count ?? 0
        let w = config.width
        guard tokens.allSatisfy({ $0.count == t }), t <= config.positions else {
            throw TensorError.invalidArgument("CLIP takes sequences of equal length up to \(config.positions) tokens")
        }
        let tokenTable = tokenEmbedding.tensor()
        var x = Tensor(shape: [n, t, w]) { out in
            tokenTable.withUnsafeBufferPointer { table in
                positionEmbedding.withUnsafeBufferPointer { positions in
                    for (row, sequence) in tokens.enumerated() {
                        for (p, slot) in sequence.enumerated() {
                            let token = min(max(slot.id, 0), config.vocabularySize - 1)
                            if let vector = slot.embedding, vector.count == w {
                                for c in 0..<w { out[(row * t + p) * w + c] = vector[c] + positions[p * w + c] }
                            } else {
                                for c in 0..<w {
                                    out[(row * t + p) * w + c] = table[token * w + c] + positions[p * w + c]
                                }
                            }
                        }
                    }
                }
            }
        }
        let stop = lastLayer < 0 ? config.layers + lastLayer : lastLayer
        for (index, layer) in layers.enumerated() where index <= stop {
            x = try layer(x, causal: true)
        }
        return try finalNorm(x)
    }

    /// The pooled output ComfyUI's `encode_from_tokens(return_pooled="unprojected")` gives
    /// `[N, width]`: the last layer's final-LayerNormed state at each sequence's first end token
    /// (position 0 without one, as `argmax` of no match), whatever `lastLayer` the text uses.
    ///
    /// Matches: ComfyUI `comfy/clip_model.py` `CLIPTextModel_.forward` (`pooled_output`).
    public func pooled(_ tokens: [[WeightedToken]]) throws -> Tensor {
        let hidden = try encode(tokens, lastLayer: -1)  // [N, T, width]
        let (t, w) = (hidden.dim(1), hidden.dim(2))
        return Tensor(shape: [tokens.count, w]) { out in
            hidden.withUnsafeBufferPointer { h in
                for (row, sequence) in tokens.enumerated() {
                    let end = sequence.firstIndex { $0.id == CLIPTokenizer.endToken } ?? 0
                    for c in 0..<w { out[row * w + c] = h[(row * t + end) * w + c] }
                }
            }
        }
    }
}
