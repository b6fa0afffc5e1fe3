import LatentflowTensor

/// The VAE's configuration; SD1.x's values by default.
public struct VAEConfiguration: Sendable, Equatable {
    public var channels = 128
    public var channelMultipliers = [1, 2, 4, 4]
    public var resBlocks = 2
    public var latentChannels = 4
    public var imageChannels = 3
    /// `process_in` multiplies latents by this before sampling (SD1.x: 0.18215).
    public var scaleFactor: Float = 0.18215

    public static let sd15 = VAEConfiguration()
    public init() {}

    /// Reads channels and depth off LDM-layout VAE weights.
    public static func detect(_ scope: WeightScope) throws -> VAEConfiguration {
        let store = scope.store
        let shape = scope.shape(of:)
        guard let convIn = shape("decoder.conv_in.weight") else {
            throw ModelLoadError.unrecognized(file: store.source, reason: "no VAE found (missing \(scope.prefix).decoder.conv_in.weight)")
        }
        var config = VAEConfiguration()
        config.latentChannels = convIn[1]
        var multipliers: [Int] = []
        var level = 0
        while let block = shape("decoder.up.\(level).block.0.conv1.weight") { multipliers.append(block[0]); level += 1 }
        guard let base = multipliers.first, base > 0 else {
            throw ModelLoadError.unrecognized(file: store.source, reason: "VAE decoder has no up blocks")
        }
        config.channels = base
        config.channelMultipliers = multipliers.map { $0 / base }
        var blocks = 0
        while shape("decoder.up.0.block.\(blocks).conv1.weight") != nil { blocks += 1 }
        config.resBlocks = blocks - 1
        config.imageChannels = shape("decoder.conv_out.weight")?[0] ?? 3
        return config
    }
}

/// GroupNorm→SiLU→conv twice, plus a (1x1-projected) shortcut (LDM `ResnetBlock`, no time embedding).
struct VAEResBlock: Sendable {
    let norm1: GroupNorm, conv1: Conv2D, norm2: GroupNorm, conv2: Conv2D
    let shortcut: Conv2D?

    init(_ scope: WeightScope, in inChannels: Int, out outChannels: Int) {
        norm1 = GroupNorm(scope["norm1"], channels: inChannels, epsilon: 1e-6)
        conv1 = Conv2D(scope["conv1"], in: inChannels, out: outChannels, kernel: 3)
        norm2 = GroupNorm(scope["norm2"], channels: outChannels, epsilon: 1e-6)
        conv2 = Conv2D(scope["conv2"], in: outChannels, out: outChannels, kernel: 3)
        shortcut = inChannels == outChannels ? nil : Conv2D(scope["nin_shortcut"], in: inChannels, out: outChannels, kernel: 1)
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
        let tokens = try norm(x).channelsToTokens()                                // [N, H·W, C]
        let attended = try query(tokens).attention(key: key(tokens), value: value(tokens), heads: 1)
        return try output(attended).tokensToChannels(height: h, width: w).adding(x)
    }
}
