import LatentflowIO
import LatentflowTensor

/// The T2I style adapter (`t2iadapter_style_sd14v1`, ComfyUI's STYLE_MODEL for SD1.x): learned
/// style tokens appended to a CLIP vision tower's last hidden states, a small pre-LayerNorm
/// transformer over all of them, and the style tokens' outputs projected to the text width. The
/// result is appended to the text conditioning as extra tokens.
///
/// Matches: ComfyUI `comfy/t2i_adapter/adapter.py` `StyleAdapter` and `comfy/sd.py`
/// `load_style_model` / `StyleModel.get_cond`. ComfyUI builds it with fixed sizes (width 1024,
/// 3 layers, 8 heads, 8 tokens, 768 out); here width, layers, tokens and output width are read
/// from the weights, so smaller test files load too, and the 8 heads are kept.
public struct StyleAdapter: Sendable {
    static let heads = 8

    let styleEmbedding: Tensor  // [1, tokens, width]
    let preNorm: LayerNorm, postNorm: LayerNorm
    let layers: [StyleAdapterBlock]
    let projection: Tensor  // [width, contextWidth]
    public let width: Int
    public let tokenCount: Int
    public let contextWidth: Int
    public let byteCount: Int

    public init(_ tensors: [String: Tensor], source: String) throws {
        if tensors["redux_down.weight"] != nil {
            throw ModelLoadError.unrecognized(
                file: source,
                reason: "a Flux Redux style model (redux_down.*): Latentflow runs SD1.x-family models only")
        }
        let store = WeightStore(tensors, source: source)
        let scope = store.root
        guard let embedding = try scope.checkedShape("style_embedding", rank: 3),
            let proj = try scope.checkedShape("proj", rank: 2)
        else {
            throw ModelLoadError.unrecognized(
                file: source, reason: "not a style model (no style_embedding / proj, nor redux_down.weight)")
        }
        let (tokens, w) = (embedding[1], embedding[2])
        try scope.require(embedding[0] == 1, "style_embedding", expected: "[1, tokens, width]")
        try scope.require(proj[0] == w, "proj", expected: "[\(w), context width]")
        try scope.require(w % Self.heads == 0, "style_embedding", expected: "a width that \(Self.heads) heads divide")
        var count = 0
        while scope.has("transformer_layes.\(count).attn.in_proj_weight") { count += 1 }
        styleEmbedding = scope.tensor("style_embedding")
        projection = scope.tensor("proj")
        preNorm = LayerNorm(scope["ln_pre"], width: w)
        postNorm = LayerNorm(scope["ln_post"], width: w)
        layers = try (0..<count).map { try StyleAdapterBlock(scope["transformer_layes.\($0)"], width: w) }
        try store.verify()
        (width, tokenCount, contextWidth) = (w, tokens, proj[1])
        byteCount = tensors.values.reduce(0) { $0 + $1.count * 4 }
    }

    /// Loads a style model file (safetensors or a PyTorch pickle), float16 or float32.
    public static func load(path: String) throws -> StyleAdapter {
        let file = try openModelFile(path: path)
        var tensors: [String: Tensor] = [:]
        for (key, entry) in try ArchivedTensor.entries(of: file) {
            tensors[key] = try entry.tensor()
            entry.releasePages()
        }
        return try StyleAdapter(tensors, source: path)
    }

    /// The style tokens for CLIP vision states `[N, L, width]`: `[N, tokens, contextWidth]`.
    public func callAsFunction(_ visionStates: Tensor) throws -> Tensor {
        guard visionStates.rank == 3, visionStates.dim(2) == width else {
            throw TensorError.invalidArgument(
                "the style model takes CLIP vision states [N, L, \(width)], got \(visionStates.shape)")
        }
        let n = visionStates.dim(0)
        let style = try Tensor.concat(Array(repeating: styleEmbedding, count: n), axis: 0)
        var x = try preNorm(Tensor.concat([visionStates, style], axis: 1))
        for layer in layers { x = try layer(x) }
        let styleOut = try x.slice(axis: 1, start: x.dim(1) - tokenCount, length: tokenCount)
        return try postNorm(styleOut).matmul(projection)
    }
}

/// One `ResidualAttentionBlock` of the style adapter: CLIP's block in OpenAI's key layout (a fused
/// `attn.in_proj_weight`, `ln_1`, `mlp.c_fc`, `mlp.c_proj`, `ln_2`) with quick-GELU.
struct StyleAdapterBlock: Sendable {
    let norm1: LayerNorm, norm2: LayerNorm
    let query: (Tensor, Tensor), key: (Tensor, Tensor), value: (Tensor, Tensor), output: (Tensor, Tensor)
    let fc: (Tensor, Tensor), proj: (Tensor, Tensor)

    init(_ scope: WeightScope, width w: Int) throws {
        norm1 = LayerNorm(scope["ln_1"], width: w)
        norm2 = LayerNorm(scope["ln_2"], width: w)
        // PyTorch's nn.MultiheadAttention stacks the query, key and value projections.
        let inWeight = try scope.tensor("attn.in_proj_weight", shape: [3 * w, w]).chunked(3, axis: 0)
        let inBias = try scope.tensor("attn.in_proj_bias", shape: [3 * w]).chunked(3, axis: 0)
        query = (inWeight[0], inBias[0])
        key = (inWeight[1], inBias[1])
        value = (inWeight[2], inBias[2])
        output = (scope.tensor("attn.out_proj.weight", shape: [w, w]), scope.tensor("attn.out_proj.bias", shape: [w]))
        fc = (scope.tensor("mlp.c_fc.weight", shape: [4 * w, w]), scope.tensor("mlp.c_fc.bias", shape: [4 * w]))
        proj = (scope.tensor("mlp.c_proj.weight", shape: [w, 4 * w]), scope.tensor("mlp.c_proj.bias", shape: [w]))
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        let h = try norm1(x)
        let q = try h.linear(weight: query.0, bias: query.1)
        let k = try h.linear(weight: key.0, bias: key.1)
        let v = try h.linear(weight: value.0, bias: value.1)
        let attended = try q.attention(key: k, value: v, heads: StyleAdapter.heads)
        let x = try x.adding(attended.linear(weight: output.0, bias: output.1))
        let hidden = try norm2(x).linear(weight: fc.0, bias: fc.1).quickGELU()
        return try x.adding(hidden.linear(weight: proj.0, bias: proj.1))
    }
}
