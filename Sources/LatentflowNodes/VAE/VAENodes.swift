import LatentflowGraph
import LatentflowModels
import LatentflowTensor

/// Latents to images: decode, then `clamp((x + 1) / 2, 0, 1)`, one sample at a time.
public struct VAEDecode: Node {
    static let samples = Input<Latent>("samples", tooltip: "The latent to be decoded.")
    static let vae = Input<VAEModel>("vae", tooltip: "The VAE model used for decoding the latent.")

    public static let schema = NodeSchema(
        "VAEDecode", displayName: "VAE Decode", category: "latent",
        description: "Decodes latent images back into pixel space images.",
        inputs: [samples, vae], outputs: outputs(Output<ImageBatch>(tooltip: "The decoded image.")))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let latent = try inputs[Self.samples].samples, vae = try inputs[Self.vae].autoencoder
        let factor = vae.latentFormat.downscaleFactor
        if let h = MemoryBudget.product([latent.dim(2), factor]), let w = MemoryBudget.product([latent.dim(3), factor])
        {
            // The decoded batch, and its channels-last copy.
            try context.checkAllocation(
                shape: [2, latent.dim(0), 3, h, w], for: describeBatch(latent.dim(0), "image", width: w, height: h))
        }
        var images: [Tensor] = []
        for i in 0..<latent.dim(0) {
            try context.checkCancellation()
            let decoded = try vae.decode(latent.slice(axis: 0, start: i, length: 1))
            images.append(decoded.scaled(by: 1, adding: 1).scaled(by: 0.5).clamped(min: 0, max: 1))
        }
        return NodeOutputs(try ImageBatch(channelsFirst: Tensor.concat(images, axis: 0)))
    }
}

/// An image smaller than one latent pixel (8x8 for SD) would be cropped to nothing.
func checkEncodable(_ image: Tensor, _ vae: any ImageAutoencoder, _ context: ExecutionContext) throws {
    let factor = vae.latentFormat.downscaleFactor, (h, w) = (image.dim(2), image.dim(3))
    guard h < factor || w < factor else { return }
    throw NodeError(
        "\(context.classType) needs images of at least \(factor)x\(factor) pixels (one latent pixel), but this one is \(w)x\(h): scale it up first (ImageScale)"
    )
}

/// Images to latents: RGB only, centre-cropped to whole latent pixels, `2x − 1`, posterior mean.
public struct VAEEncode: Node {
    static let pixels = Input<ImageBatch>("pixels")
    static let vae = Input<VAEModel>("vae")

    public static let schema = NodeSchema(
        "VAEEncode", displayName: "VAE Encode", category: "latent",
        inputs: [pixels, vae], outputs: outputs(Output<Latent>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let image = try inputs[Self.pixels].channelsFirst()  // [B, C, H, W]
        return NodeOutputs(Latent(try encodeImages(image, try inputs[Self.vae].autoencoder, context)))
    }
}

/// ComfyUI's `VAE.encode` on `[B, C, H, W]` images in 0...1: RGB only, centre-cropped to whole
/// latent pixels, `2x − 1`, the posterior mean, one sample at a time.
func encodeImages(_ images: Tensor, _ vae: any ImageAutoencoder, _ context: ExecutionContext) throws -> Tensor {
    var image = images
    if image.dim(1) > 3 { image = try image.slice(axis: 1, start: 0, length: 3) }
    try checkEncodable(image, vae, context)
    image = try vae.croppedToLatentGrid(image)
    var latents: [Tensor] = []
    for i in 0..<image.dim(0) {
        try context.checkCancellation()
        latents.append(try vae.encode(image.slice(axis: 0, start: i, length: 1).scaled(by: 2, adding: -1)))
    }
    return try Tensor.concat(latents, axis: 0)
}
