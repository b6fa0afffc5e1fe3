import LatentflowTensor

/// The VAE's configuration; SD1.x's values by default.
public struct VAEConfiguration: Sendable, Equatable {
    public var channels = 128
    public var channelMultipliers = [1, 2, 4, 4]
    public var resBlocks = 2
    public var latentChannels = 4
    public var imageChannels = 3
    /// `process_in` multiplies latents by this before sampling (SD1.x/SD2.x: 0.18215).
    public var scaleFactor: Float = LatentFormat.sd15.scaleFactor

    public static let sd15 = VAEConfiguration()
    public init() {}

    /// Every level but the deepest halves the image (ComfyUI's `downscale_ratio`: 8 for SD's four).
    public var downscaleFactor: Int { 1 << (channelMultipliers.count - 1) }

    /// The latent space this VAE encodes into.
    public var latentFormat: LatentFormat {
        LatentFormat(channels: latentChannels, downscaleFactor: downscaleFactor, scaleFactor: scaleFactor)
    }

    /// Reads channels and depth off LDM-layout VAE weights.
    public static func detect(_ scope: WeightScope) throws -> VAEConfiguration {
        let store = scope.store
        let shape = scope.shape(of:)
        guard let convIn = shape("decoder.conv_in.weight") else {
            throw ModelLoadError.unrecognized(
                file: store.source, reason: "no VAE found (missing \(scope.prefix).decoder.conv_in.weight)")
        }
        var config = VAEConfiguration()
        config.latentChannels = convIn[1]
        var multipliers: [Int] = []
        var level = 0
        while let block = shape("decoder.up.\(level).block.0.conv1.weight") {
            multipliers.append(block[0])
            level += 1
        }
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
