import Foundation
import LatentflowTensor

/// GLIGEN's `fuser` in one transformer block: the grounding objects, projected to the block's
/// width, join the visual tokens in a self-attention whose output for the visual tokens is added
/// through a tanh gate, then a gated GEGLU feed-forward.
///
/// Matches: ComfyUI `comfy/gligen.py` `GatedSelfAttentionDense` (diffusers
/// `attention.GatedSelfAttentionDense`).
struct GatedSelfAttention: Sendable {
    let linear: Linear
    let attention: Attention
    let norm1: LayerNorm, norm2: LayerNorm
    let feedForwardIn: Linear, feedForwardOut: Linear
    /// tanh(alpha_attn), tanh(alpha_dense): 0 leaves the UNet as it was.
    let attentionGate: Float, denseGate: Float

    init(_ scope: WeightScope, queryDim: Int, keyDim: Int, heads: Int) throws {
        linear = Linear(scope["linear"], in: keyDim, out: queryDim)
        attention = Attention(
            scope["attn"], queryDim: queryDim, contextDim: queryDim, heads: heads, headWidth: queryDim / heads)
        norm1 = LayerNorm(scope["norm1"], width: queryDim)
        norm2 = LayerNorm(scope["norm2"], width: queryDim)
        feedForwardIn = Linear(scope["ff.net.0.proj"], in: queryDim, out: queryDim * 8)
        feedForwardOut = Linear(scope["ff.net.2"], in: queryDim * 4, out: queryDim)
        attentionGate = try Self.gate(scope, "alpha_attn")
        denseGate = try Self.gate(scope, "alpha_dense")
    }

    /// A scalar gate parameter, stored as a 0-d (or one-element) tensor.
    private static func gate(_ scope: WeightScope, _ name: String) throws -> Float {
        guard scope.has(name) else {
            _ = scope.tensor(name)  // reported as missing by the store's verification
            return 0
        }
        let alpha = scope.tensor(name)
        try scope.require(alpha.count == 1, name, expected: "one scalar")
        return Foundation.tanh(alpha.scalars[0])
    }

    /// `x` `[N, T, queryDim]` visual tokens; `objects` `[N, 30, keyDim]` grounding tokens.
    func callAsFunction(_ x: Tensor, objects: Tensor) throws -> Tensor {
        let visual = x.dim(1)
        let joined = try Tensor.concat([x, linear(objects)], axis: 1)  // [N, T + 30, queryDim]
        let attended = try attention(norm1(joined)).slice(axis: 1, start: 0, length: visual)
        var x = try x.adding(attended.scaled(by: attentionGate))
        let projected = try feedForwardIn(norm2(x)).chunked(2, axis: -1)  // GEGLU: value, gate
        let dense = try feedForwardOut(projected[0].multiplying(projected[1].gelu()))
        x = try x.adding(dense.scaled(by: denseGate))
        return x
    }
}
