import Foundation
import LatentflowTensor

/// LDM `ResBlock`: GroupNorm→SiLU→conv, plus the projected timestep embedding, then
/// GroupNorm→SiLU→conv, added to the (projected) input.
struct ResBlock: Sendable {
    let inNorm: GroupNorm, inConv: Conv2D
    let embedding: Linear
    let outNorm: GroupNorm, outConv: Conv2D
    let skip: Conv2D?

    init(_ scope: WeightScope, in inChannels: Int, out outChannels: Int, embedDim: Int) {
        inNorm = GroupNorm(scope["in_layers.0"], channels: inChannels, epsilon: 1e-5)
        inConv = Conv2D(scope["in_layers.2"], in: inChannels, out: outChannels, kernel: 3)
        embedding = Linear(scope["emb_layers.1"], in: embedDim, out: outChannels)
        outNorm = GroupNorm(scope["out_layers.0"], channels: outChannels, epsilon: 1e-5)
        outConv = Conv2D(scope["out_layers.3"], in: outChannels, out: outChannels, kernel: 3)
        skip =
            inChannels == outChannels
            ? nil : Conv2D(scope["skip_connection"], in: inChannels, out: outChannels, kernel: 1)
    }

    func callAsFunction(_ x: Tensor, _ embeddingSiLU: Tensor) throws -> Tensor {
        var h = try inConv(inNorm(x, silu: true))  // [N, out, H, W]
        let e = try embedding(embeddingSiLU)  // [N, out]
        h = try h.adding(e.reshaped([e.dim(0), e.dim(1), 1, 1]))
        h = try outConv(outNorm(h, silu: true))
        return try (skip.map { try $0(x) } ?? x).adding(h)
    }
}

/// Multi-head attention with separate q/k/v projections (LDM `CrossAttention`).
struct Attention: Sendable {
    let query: Linear, key: Linear, value: Linear, output: Linear
    let heads: Int

    init(_ scope: WeightScope, queryDim: Int, contextDim: Int, heads: Int, headWidth: Int) {
        let inner = heads * headWidth
        query = Linear(scope["to_q"], in: queryDim, out: inner, bias: false)
        key = Linear(scope["to_k"], in: contextDim, out: inner, bias: false)
        value = Linear(scope["to_v"], in: contextDim, out: inner, bias: false)
        output = Linear(scope["to_out.0"], in: inner, out: queryDim)
        self.heads = heads
    }

    /// - Parameter value: the source of the values when it differs from `context` (an attention
    ///   patch's); keys and values whose batch differs from the query's are viewed with the query's
    ///   batch size, as ComfyUI's attention functions view them (HyperTile tiles the query alone).
    /// - Parameter replacement: computes the attention from the projected q, k, v in place of
    ///   softmax attention (ComfyUI's `attn1_replace` patches).
    func callAsFunction(
        _ x: Tensor, context: Tensor? = nil, value valueSource: Tensor? = nil,
        replacement: AttentionReplacement? = nil
    ) throws -> Tensor {
        let source = context ?? x
        let q = try query(x)
        var (k, v) = (try key(source), try value(valueSource ?? source))
        if k.dim(0) != q.dim(0) { k = try k.reshaped([q.dim(0), -1, k.dim(2)]) }
        if v.dim(0) != q.dim(0) { v = try v.reshaped([q.dim(0), -1, v.dim(2)]) }
        guard let replacement else { return try output(q.attention(key: k, value: v, heads: heads)) }
        return try output(replacement(q, k, v, heads))
    }
}

/// An attention computed in place of softmax attention, from the projected `[N, T, heads·width]`
/// query, key and value (ComfyUI's `patches_replace` `attn1` functions; PAG's returns the value).
public typealias AttentionReplacement =
    @Sendable (_ query: Tensor, _ key: Tensor, _ value: Tensor, _ heads: Int) throws -> Tensor

/// Self-attention, cross-attention to the text, and a GEGLU feed-forward, each pre-normed
/// and residual (LDM `BasicTransformerBlock`).
struct TransformerBlock: Sendable {
    let norm1: LayerNorm, selfAttention: Attention
    let norm2: LayerNorm, crossAttention: Attention
    let norm3: LayerNorm, feedForwardIn: Linear, feedForwardOut: Linear
    /// `attn1` attends to the text as well (ComfyUI's `disable_self_attn`): its keys and values
    /// come from the context, so `to_k`/`to_v` take the context's width.
    let selfAttentionDisabled: Bool

    init(
        _ scope: WeightScope, dim: Int, contextDim: Int, heads: Int, headWidth: Int,
        selfAttentionDisabled: Bool = false
    ) {
        self.selfAttentionDisabled = selfAttentionDisabled
        norm1 = LayerNorm(scope["norm1"], width: dim)
        selfAttention = Attention(
            scope["attn1"], queryDim: dim, contextDim: selfAttentionDisabled ? contextDim : dim, heads: heads,
            headWidth: headWidth)
        norm2 = LayerNorm(scope["norm2"], width: dim)
        crossAttention = Attention(
            scope["attn2"], queryDim: dim, contextDim: contextDim, heads: heads, headWidth: headWidth)
        norm3 = LayerNorm(scope["norm3"], width: dim)
        feedForwardIn = Linear(scope["ff.net.0.proj"], in: dim, out: dim * 8)
        feedForwardOut = Linear(scope["ff.net.2"], in: dim * 4, out: dim)
    }

    /// - Parameter patch: applied after the self-attention (ComfyUI's `middle_patch`: GLIGEN), told
    ///   the index of the spatial transformer this block is in.
    /// - Parameter attention: the MODEL's attention patches for this call (hypernetworks, HyperTile).
    /// - Parameter selfAttention: replaces the self-attention's softmax (ComfyUI's `attn1_replace`).
    func callAsFunction(
        _ x: Tensor, context: Tensor, patch: (any TransformerMiddlePatch)? = nil, transformerIndex: Int = 0,
        attention: AttentionPatchCall? = nil, selfAttention replacement: AttentionReplacement? = nil
    ) throws -> Tensor {
        let n1 = try norm1(x)
        let firstContext = selfAttentionDisabled ? context : nil
        var x = try x.adding(
            attention.map { try $0.selfAttention(n1, selfAttention, context: firstContext, replacement: replacement) }
                ?? selfAttention(n1, context: firstContext, replacement: replacement))
        if let patch { x = try patch(x, transformerIndex: transformerIndex) }
        let n2 = try norm2(x)
        x = try x.adding(
            attention.map { try $0.crossAttention(n2, context: context, crossAttention) }
                ?? crossAttention(n2, context: context))
        let projected = try feedForwardIn(norm3(x)).chunked(2, axis: -1)  // GEGLU: value, gate
        return try x.adding(feedForwardOut(projected[0].multiplying(projected[1].gelu())))
    }
}

/// GroupNorm, projection to tokens, transformer blocks, projection back, residual
/// (LDM `SpatialTransformer`).
struct SpatialTransformer: Sendable {
    let norm: GroupNorm
    let projectIn: (conv: Conv2D?, linear: Linear?)
    let blocks: [TransformerBlock]
    let projectOut: (conv: Conv2D?, linear: Linear?)
    /// Its place among the UNet's spatial transformers (input, middle, then output blocks), as
    /// ComfyUI counts `transformer_index` for patches.
    let index: Int

    /// - Parameter level: the UNet level it sits on, for `selfAttentionDisabledLevels`; nil in the
    ///   middle block.
    init(_ scope: WeightScope, channels: Int, config: UNetConfiguration, level: Int? = nil, index: Int = 0) {
        self.index = index
        let selfAttentionDisabled = level.map { config.selfAttentionDisabled(level: $0) } ?? false
        let (heads, width) = config.headCount(channels: channels)
        norm = GroupNorm(scope["norm"], channels: channels, epsilon: 1e-6)
        if config.linearProjection {
            projectIn = (nil, Linear(scope["proj_in"], in: channels, out: channels))
            projectOut = (nil, Linear(scope["proj_out"], in: channels, out: channels))
        } else {
            projectIn = (Conv2D(scope["proj_in"], in: channels, out: channels, kernel: 1), nil)
            projectOut = (Conv2D(scope["proj_out"], in: channels, out: channels, kernel: 1), nil)
        }
        blocks = (0..<config.transformerDepth).map {
            TransformerBlock(
                scope["transformer_blocks.\($0)"], dim: channels, contextDim: config.contextDim, heads: heads,
                headWidth: width, selfAttentionDisabled: selfAttentionDisabled)
        }
    }

    func callAsFunction(
        _ x: Tensor, context: Tensor, patch: (any TransformerMiddlePatch)? = nil,
        attention: AttentionPatchCall? = nil, selfAttention: AttentionReplacement? = nil
    ) throws -> Tensor {
        let (h, w) = (x.dim(2), x.dim(3))
        var hidden = try norm(x)
        if let conv = projectIn.conv { hidden = try conv(hidden) }
        hidden = try hidden.channelsToTokens()  // [N, H·W, C]
        if let linear = projectIn.linear { hidden = try linear(hidden) }
        for block in blocks {
            hidden = try block(
                hidden, context: context, patch: patch, transformerIndex: index, attention: attention,
                selfAttention: selfAttention)
        }
        if let linear = projectOut.linear { hidden = try linear(hidden) }
        hidden = try hidden.tokensToChannels(height: h, width: w)
        if let conv = projectOut.conv { hidden = try conv(hidden) }
        return try hidden.adding(x)
    }
}

/// What runs after every transformer block's self-attention when set (ComfyUI's
/// `transformer_options["patches"]["middle_patch"]`, which GLIGEN's grounding fills).
public protocol TransformerMiddlePatch: Sendable {
    /// `x` `[N, T, C]` tokens of the spatial transformer at `transformerIndex`, in the UNet's order.
    func callAsFunction(_ x: Tensor, transformerIndex: Int) throws -> Tensor
}

/// Stride-2 3x3 convolution (LDM `Downsample`, key `op`).
struct Downsample: Sendable {
    let conv: Conv2D
    init(_ scope: WeightScope, channels: Int) {
        conv = Conv2D(scope["op"], in: channels, out: channels, kernel: 3, stride: 2, padding: 1)
    }
    func callAsFunction(_ x: Tensor) throws -> Tensor { try conv(x) }
}

/// Nearest-neighbour upsampling, then a 3x3 convolution (LDM `Upsample`). The UNet passes the
/// size of the skip connection it meets next, so odd sizes (a 12x8 latent halves to 3, then
/// doubles to 4) come back to that size, as ComfyUI's `output_shape` does.
struct Upsample: Sendable {
    let conv: Conv2D
    init(_ scope: WeightScope, channels: Int) { conv = Conv2D(scope["conv"], in: channels, out: channels, kernel: 3) }
    func callAsFunction(_ x: Tensor, size: (height: Int, width: Int)? = nil) throws -> Tensor {
        let target = size ?? (x.dim(2) * 2, x.dim(3) * 2)
        return try conv(x.resized(height: target.height, width: target.width, mode: .nearest))
    }
}

/// Sinusoidal timestep features, `[cos, sin]` halves (ComfyUI `timestep_embedding`).
func timestepEmbedding(_ timesteps: [Float], dim: Int, maxPeriod: Double = 10000) -> Tensor {
    let half = dim / 2
    let logPeriod = Float(-Foundation.log(maxPeriod))
    let frequencies = (0..<half).map { Foundation.exp(logPeriod * Float($0) / Float(half)) }
    return Tensor(shape: [timesteps.count, dim]) { out in
        for (row, t) in timesteps.enumerated() {
            for i in 0..<half {
                let angle = t * frequencies[i]
                out[row * dim + i] = Foundation.cos(angle)
                out[row * dim + half + i] = Foundation.sin(angle)
            }
        }
    }
}

/// The LCM guidance-scale features, `[sin, cos]` halves of w·1000 (diffusers
/// `LatentConsistencyModelPipeline.get_guidance_scale_embedding`).
func guidanceScaleEmbedding(_ scales: [Float], dim: Int) -> Tensor {
    let half = dim / 2
    let step = Foundation.log(Float(10000)) / Float(half - 1)
    let frequencies = (0..<half).map { Foundation.exp(Float($0) * -step) }
    return Tensor(shape: [scales.count, dim]) { out in
        for (row, w) in scales.enumerated() {
            for i in 0..<half {
                let angle = w * 1000 * frequencies[i]
                out[row * dim + i] = Foundation.sin(angle)
                out[row * dim + half + i] = Foundation.cos(angle)
            }
            if dim % 2 == 1 { out[row * dim + dim - 1] = 0 }
        }
    }
}
