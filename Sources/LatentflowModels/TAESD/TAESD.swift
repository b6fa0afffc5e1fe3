import LatentflowTensor

/// ComfyUI's `TAESD` module as its `VAE` wraps it: `decode` runs the decoder on
/// `(z − vae_shift) · vae_scale` and maps 0…1 to -1…1; `encode` maps -1…1 to 0…1, runs the
/// encoder and undoes the scale and shift, so latents live in the same (unscaled) space as
/// AutoencoderKL's. `VAELoader` sets scale 0.18215 and shift 0 for SD1.x's `taesd`; previews
/// decode model-space latents with scale 1.
public struct TAESD: ImageAutoencoder {
    let encoder: TAESDEncoder?
    let decoder: TAESDDecoder
    public let width: Int
    public let latentChannels: Int
    public var vaeScale: Float
    public var vaeShift: Float

    /// - Parameters:
    ///   - encoder: the scope of the encoder's keys (`0.weight` …), nil for a decoder-only TAESD
    ///     (previews).
    ///   - decoder: the scope of the decoder's keys (`1.weight` …).
    init(
        encoder: WeightScope?, decoder: WeightScope, width: Int, latentChannels: Int, vaeScale: Float,
        vaeShift: Float
    ) {
        self.encoder = encoder.map { TAESDEncoder($0, width: width, latentChannels: latentChannels) }
        self.decoder = TAESDDecoder(decoder, width: width, latentChannels: latentChannels)
        (self.width, self.latentChannels, self.vaeScale, self.vaeShift) = (width, latentChannels, vaeScale, vaeShift)
    }

    /// 8x downscale; sampling's own scale stays SD1.x's (TAESD only stands in for the VAE).
    public var latentFormat: LatentFormat {
        LatentFormat(channels: latentChannels, downscaleFactor: 8, scaleFactor: LatentFormat.sd15.scaleFactor)
    }

    public func encode(_ image: Tensor) throws -> Tensor {
        guard let encoder else { throw TAESDError.noEncoder }
        let raw = try encoder(image.scaled(by: 0.5, adding: 0.5))
        return try raw.dividing(Tensor(shape: [], repeating: vaeScale)).scaled(by: 1, adding: vaeShift)
    }

    public func decode(_ latent: Tensor) throws -> Tensor {
        let input = try latent.scaled(by: 1, adding: -vaeShift).multiplying(Tensor(shape: [], repeating: vaeScale))
        return try decoder(input).scaled(by: 1, adding: -0.5).scaled(by: 2)
    }
}

public enum TAESDError: Error, CustomStringConvertible {
    case noEncoder
    public var description: String { "this TAESD was loaded without its encoder (previews load the decoder only)" }
}
