import LatentflowTensor

/// What ComfyUI's `VAE` object does with its `first_stage_model`, whatever network it is: images
/// `[N, 3, H, W]` in -1…1 (after `process_input`) to unscaled latents and back. AutoencoderKL,
/// TAESD and the pixel-space identity implement it.
public protocol ImageAutoencoder: Sendable {
    /// The latent space it encodes into (channels, downscale factor, sampling scale).
    var latentFormat: LatentFormat { get }
    /// Unscaled latents from images in -1…1, whose sides are multiples of the downscale factor.
    func encode(_ image: Tensor) throws -> Tensor
    /// Images in -1…1 (unclamped) from unscaled latents.
    func decode(_ latent: Tensor) throws -> Tensor
}

extension ImageAutoencoder {
    /// Images `[N, C, H, W]` centre-cropped to whole latent pixels, as `encode` needs them
    /// (ComfyUI `vae_encode_crop_pixels`).
    public func croppedToLatentGrid(_ image: Tensor) throws -> Tensor {
        let factor = latentFormat.downscaleFactor
        let (h, w) = (image.dim(2), image.dim(3))
        guard h % factor != 0 || w % factor != 0 else { return image }
        return try image.slice(axis: 2, start: (h % factor) / 2, length: h / factor * factor)
            .slice(axis: 3, start: (w % factor) / 2, length: w / factor * factor)
    }
}

extension AutoencoderKL: ImageAutoencoder {
    public var latentFormat: LatentFormat { config.latentFormat }
}

/// ComfyUI's `pixel_space` VAE (`comfy/pixel_space_convert.py` `PixelspaceConversionVAE`): the
/// latent is the image itself, 3 channels at full size, in -1…1.
public struct PixelSpaceAutoencoder: ImageAutoencoder {
    public init() {}
    public var latentFormat: LatentFormat { LatentFormat(channels: 3, downscaleFactor: 1, scaleFactor: 1) }
    public func encode(_ image: Tensor) throws -> Tensor { image }
    public func decode(_ latent: Tensor) throws -> Tensor { latent }
}
