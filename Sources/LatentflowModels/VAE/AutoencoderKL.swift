import LatentflowTensor

/// SD's AutoencoderKL in the LDM key layout (`encoder.*`, `decoder.*`, `quant_conv`,
/// `post_quant_conv`): images `[N, 3, H, W]` in -1…1 to latents `[N, 4, H/8, W/8]` and back.
public struct AutoencoderKL: Sendable {
    public let config: VAEConfiguration
    let encoder: Encoder
    let decoder: Decoder
    let quantConv: Conv2D
    let postQuantConv: Conv2D

    public init(_ scope: WeightScope, config: VAEConfiguration = .sd15) {
        self.config = config
        encoder = Encoder(scope["encoder"], config: config)
        decoder = Decoder(scope["decoder"], config: config)
        quantConv = Conv2D(
            scope["quant_conv"], in: 2 * config.latentChannels, out: 2 * config.latentChannels, kernel: 1)
        postQuantConv = Conv2D(
            scope["post_quant_conv"], in: config.latentChannels, out: config.latentChannels, kernel: 1)
    }

    /// The posterior mean (ComfyUI encodes deterministically), unscaled.
    public func encode(_ image: Tensor) throws -> Tensor {
        let moments = try quantConv(encoder(image))  // [N, 2·z, h, w]
        return try moments.slice(axis: 1, start: 0, length: config.latentChannels)
    }

    /// Images in -1…1 (unclamped) from unscaled latents.
    public func decode(_ latent: Tensor) throws -> Tensor {
        try decoder(postQuantConv(latent))
    }

    struct Encoder: Sendable {
        let convIn: Conv2D
        let levels: [VAELevel]
        let mid: VAEMidBlock
        let normOut: GroupNorm, convOut: Conv2D

        init(_ scope: WeightScope, config: VAEConfiguration) {
            let base = config.channels
            convIn = Conv2D(scope["conv_in"], in: config.imageChannels, out: base, kernel: 3)
            var channels = base
            var levels: [VAELevel] = []
            for (level, multiplier) in config.channelMultipliers.enumerated() {
                let out = base * multiplier
                let blocks = (0..<config.resBlocks).map { i -> VAEResBlock in
                    defer { channels = out }
                    return VAEResBlock(scope["down.\(level).block.\(i)"], in: i == 0 ? channels : out, out: out)
                }
                channels = out
                // The downsampler pads right and bottom by one, then convolves with stride 2, padding 0.
                let down =
                    level < config.channelMultipliers.count - 1
                    ? Conv2D(
                        scope["down.\(level).downsample.conv"], in: out, out: out, kernel: 3, stride: 2, padding: 0)
                    : nil
                levels.append(VAELevel(blocks: blocks, resample: down))
            }
            self.levels = levels
            mid = VAEMidBlock(scope["mid"], channels: channels)
            normOut = GroupNorm(scope["norm_out"], channels: channels, epsilon: 1e-6)
            convOut = Conv2D(scope["conv_out"], in: channels, out: 2 * config.latentChannels, kernel: 3)
        }

        func callAsFunction(_ x: Tensor) throws -> Tensor {
            var h = try convIn(x)
            for level in levels {
                for block in level.blocks { h = try block(h) }
                if let down = level.resample {
                    h = try down(h.padded(Padding2D(top: 0, bottom: 1, left: 0, right: 1)))
                }
            }
            h = try mid(h)
            return try convOut(normOut(h, silu: true))
        }
    }

    struct Decoder: Sendable {
        let convIn: Conv2D
        let mid: VAEMidBlock
        /// Deepest level first, as they run; keys are `up.<level>`.
        let levels: [VAELevel]
        let normOut: GroupNorm, convOut: Conv2D

        init(_ scope: WeightScope, config: VAEConfiguration) {
            let base = config.channels
            var channels = base * config.channelMultipliers.last!
            convIn = Conv2D(scope["conv_in"], in: config.latentChannels, out: channels, kernel: 3)
            mid = VAEMidBlock(scope["mid"], channels: channels)
            var levels: [VAELevel] = []
            for level in (0..<config.channelMultipliers.count).reversed() {
                let out = base * config.channelMultipliers[level]
                var blocks: [VAEResBlock] = []
                for i in 0...config.resBlocks {
                    blocks.append(VAEResBlock(scope["up.\(level).block.\(i)"], in: channels, out: out))
                    channels = out
                }
                let up = level > 0 ? Conv2D(scope["up.\(level).upsample.conv"], in: out, out: out, kernel: 3) : nil
                levels.append(VAELevel(blocks: blocks, resample: up))
            }
            self.levels = levels
            normOut = GroupNorm(scope["norm_out"], channels: channels, epsilon: 1e-6)
            convOut = Conv2D(scope["conv_out"], in: channels, out: config.imageChannels, kernel: 3)
        }

        func callAsFunction(_ z: Tensor) throws -> Tensor {
            var h = try convIn(z)
            h = try mid(h)
            for level in levels {
                for block in level.blocks { h = try block(h) }
                if let up = level.resample {
                    h = try up(h.resized(height: h.dim(2) * 2, width: h.dim(3) * 2, mode: .nearest))
                }
            }
            return try convOut(normOut(h, silu: true))
        }
    }
}
