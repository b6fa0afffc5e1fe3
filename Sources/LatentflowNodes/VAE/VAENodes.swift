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
        var images: [Tensor] = []
        for i in 0..<latent.dim(0) {
            try context.checkCancellation()
            let decoded = try vae.decode(latent.slice(axis: 0, start: i, length: 1))
            images.append(decoded.scaled(by: 1, adding: 1).scaled(by: 0.5).clamped(min: 0, max: 1))
        }
        return NodeOutputs(try ImageBatch(channelsFirst: Tensor.concat(images, axis: 0)))
    }
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
        var image = try inputs[Self.pixels].channelsFirst()  // [B, C, H, W]
        let vae = try inputs[Self.vae].autoencoder
        if image.dim(1) > 3 { image = try image.slice(axis: 1, start: 0, length: 3) }
        image = try vae.croppedToLatentGrid(image)
        var latents: [Tensor] = []
        for i in 0..<image.dim(0) {
            try context.checkCancellation()
            latents.append(try vae.encode(image.slice(axis: 0, start: i, length: 1).scaled(by: 2, adding: -1)))
        }
        return NodeOutputs(Latent(try Tensor.concat(latents, axis: 0)))
    }
}
