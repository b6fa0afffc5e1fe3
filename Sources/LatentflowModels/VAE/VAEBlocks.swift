import LatentflowTensor

/// GroupNorm→SiLU→conv twice, plus a (1x1-projected) shortcut (LDM `ResnetBlock`, no time embedding).
struct VAEResBlock: Sendable {
    let norm1: GroupNorm, conv1: Conv2D, norm2: GroupNorm, conv2: Conv2D
    let shortcut: Conv2D?

    init(_ scope: WeightScope, in inChannels: Int, out outChannels: Int) {
        norm1 = GroupNorm(scope["norm1"], channels: inChannels, epsilon: 1e-6)
        conv1 = Conv2D(scope["conv1"], in: inChannels, out: outChannels, kernel: 3)
        norm2 = GroupNorm(scope["norm2"], channels: outChannels, epsilon: 1e-6)
        conv2 = Conv2D(scope["conv2"], in: outChannels, out: outChannels, kernel: 3)
        shortcut =
            inChannels == outChannels ? nil : Conv2D(scope["nin_shortcut"], in: inChannels, out: outChannels, kernel: 1)
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        let h = try conv2(norm2(conv1(norm1(x, silu: true)), silu: true))
        return try (shortcut.map { try $0(x) } ?? x).adding(h)
    }
}

/// Single-head self-attention over all pixels (LDM `AttnBlock`; q/k/v/proj_out as 1x1 convs).
struct VAEAttention: Sendable {
    let norm: GroupNorm
    let query: Linear, key: Linear, value: Linear, output: Linear

    init(_ scope: WeightScope, channels: Int) {
        norm = GroupNorm(scope["norm"], channels: channels, epsilon: 1e-6)
        // 1x1 convolutions applied to tokens are linear layers ([C, C, 1, 1] read as [C, C]).
        query = Linear(scope["q"], in: channels, out: channels, storedAsConv: true)
        key = Linear(scope["k"], in: channels, out: channels, storedAsConv: true)
        value = Linear(scope["v"], in: channels, out: channels, storedAsConv: true)
        output = Linear(scope["proj_out"], in: channels, out: channels, storedAsConv: true)
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        let (h, w) = (x.dim(2), x.dim(3))
        let tokens = try norm(x).channelsToTokens()  // [N, H·W, C]
        let attended = try query(tokens).attention(key: key(tokens), value: value(tokens), heads: 1)
        return try output(attended).tokensToChannels(height: h, width: w).adding(x)
    }
}

/// ResBlock, self-attention, ResBlock at the lowest resolution (LDM `mid`).
struct VAEMidBlock: Sendable {
    let first: VAEResBlock, attention: VAEAttention, second: VAEResBlock

    init(_ scope: WeightScope, channels: Int) {
        first = VAEResBlock(scope["block_1"], in: channels, out: channels)
        attention = VAEAttention(scope["attn_1"], channels: channels)
        second = VAEResBlock(scope["block_2"], in: channels, out: channels)
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor { try second(attention(first(x))) }
}

/// One resolution of the encoder or decoder: its ResBlocks, then the convolution of the
/// downsampler (encoder) or upsampler (decoder) on every level that changes resolution.
struct VAELevel: Sendable {
    let blocks: [VAEResBlock]
    let resample: Conv2D?
}
