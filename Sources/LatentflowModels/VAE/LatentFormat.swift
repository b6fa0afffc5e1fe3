/// How a latent space relates to pixels and to what the UNet samples: ComfyUI's `latent_format`
/// (channels, the scale `process_in` multiplies by) with the VAE's `downscale_ratio`.
///
/// A loaded VAE carries its own (`VAEConfiguration.latentFormat`); nodes with no VAE at hand
/// (EmptyLatentImage, LatentUpscale, ConditioningSetArea, LoadLatent) use `sd15`, as ComfyUI's
/// do with their fixed `// 8`, 4 channels and 0.18215.
public struct LatentFormat: Sendable, Equatable {
    public var channels: Int
    /// Image pixels per latent pixel, along each side.
    public var downscaleFactor: Int
    /// Sampling multiplies latents by this on the way in and divides by it on the way out.
    public var scaleFactor: Float

    /// SD1.x and SD2.x: 4 channels at 1/8 of the image size, scaled by 0.18215.
    public static let sd15 = LatentFormat(channels: 4, downscaleFactor: 8, scaleFactor: 0.18215)

    public init(channels: Int, downscaleFactor: Int, scaleFactor: Float) {
        (self.channels, self.downscaleFactor, self.scaleFactor) = (channels, downscaleFactor, scaleFactor)
    }

    /// The latent length of an image side (rounded down, as ComfyUI's `//`).
    public func latentLength(forPixels pixels: Int) -> Int { pixels / downscaleFactor }

    /// The shape `[N, C, H, W]` of the latents for `batchSize` images of the given pixel size.
    public func latentShape(batchSize: Int, height: Int, width: Int) -> [Int] {
        [batchSize, channels, latentLength(forPixels: height), latentLength(forPixels: width)]
    }
}
