import LatentflowGraph
import LatentflowTensor

/// InstructPix2Pix: the input image's latent rides on both conditionings (for the UNet's extra
/// input channels); sampling starts from an empty latent of the same size.
///
/// Matches: ComfyUI `comfy_extras/nodes_ip2p.py` `InstructPixToPixConditioning.execute`: the
/// image centre-cropped to a multiple of 8 pixels, `vae.encode`, `concat_latent_image` on every
/// entry, a zero latent shaped like the encoding.
public struct InstructPixToPixConditioning: Node {
    static let positive = Input<Conditioning>("positive")
    static let negative = Input<Conditioning>("negative")
    static let vae = Input<VAEModel>("vae")
    static let pixels = Input<ImageBatch>("pixels")

    public static let schema = NodeSchema(
        "InstructPixToPixConditioning", category: "conditioning/instructpix2pix",
        inputs: [positive, negative, vae, pixels],
        outputs: outputs(Output<Conditioning>("positive"), Output<Conditioning>("negative"), Output<Latent>("latent")))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var pixels = try inputs[Self.pixels].channelsFirst()
        let (h, w) = (pixels.dim(2), pixels.dim(3))
        guard h >= 8, w >= 8 else {
            throw NodeError("InstructPixToPixConditioning: input 'pixels' must be at least 8x8, got \(w)x\(h)")
        }
        // ComfyUI crops to 8 pixels whatever the VAE's factor (the VAE then crops to its own).
        pixels = try pixels.slice(axis: 2, start: (h % 8) / 2, length: h / 8 * 8)
            .slice(axis: 3, start: (w % 8) / 2, length: w / 8 * 8)
        let concat = try encodeImages(pixels, try inputs[Self.vae].autoencoder, context)
        func conditioned(_ conditioning: Conditioning) -> Conditioning {
            conditioning.updatingEntries { $0.concatLatentImage = concat }
        }
        return NodeOutputs(
            conditioned(try inputs[Self.positive]), conditioned(try inputs[Self.negative]),
            Latent(Tensor(shape: concat.shape)))
    }
}

/// The conditioning of Stability's x4 upscaler: the image, resized to a quarter of the target
/// size and mapped to −1…1, and the noise augmentation ride on both conditionings; the latent is
/// empty at that quarter size. (Latentflow does not load the x4 upscaler UNet itself.)
///
/// Matches: ComfyUI `comfy_extras/nodes_sdupscale.py` `SD_4XUpscale_Conditioning.execute`:
/// target `max(1, round(side · scale_ratio))`, `common_upscale(2x − 1, w // 4, h // 4, bilinear,
/// center)`, `concat_image` and `noise_augmentation` on every entry, zeros `[B, 4, h // 4, w // 4]`.
public struct SD_4XUpscale_Conditioning: Node {
    static let images = Input<ImageBatch>("images")
    static let positive = Input<Conditioning>("positive")
    static let negative = Input<Conditioning>("negative")
    static let scaleRatio = Input.float("scale_ratio", default: 4.0, min: 0, max: 10, step: 0.01)
    static let noiseAugmentation = Input.float("noise_augmentation", default: 0, min: 0, max: 1, step: 0.001)

    public static let schema = NodeSchema(
        "SD_4XUpscale_Conditioning", category: "conditioning/upscale_diffusion",
        inputs: [images, positive, negative, scaleRatio, noiseAugmentation],
        outputs: outputs(Output<Conditioning>("positive"), Output<Conditioning>("negative"), Output<Latent>("latent")))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let images = try inputs[Self.images], ratio = try inputs[Self.scaleRatio]
        let augmentation = try inputs[Self.noiseAugmentation]
        func target(_ side: Int) -> Int { max(1, Int((Double(side) * ratio).rounded(.toNearestOrEven))) }
        let (width, height) = (target(images.width) / 4, target(images.height) / 4)
        guard width >= 1, height >= 1 else {
            throw NodeError(
                "SD_4XUpscale_Conditioning: input 'scale_ratio' \(ratio) makes \(images.width)x\(images.height) "
                    + "smaller than 4 pixels at the target size")
        }
        try context.checkAllocation(
            shape: [images.count, 4, height, width],
            for: describeBatch(images.count, "latent", width: width, height: height))
        let pixels = try commonUpscale(
            try images.channelsFirst().scaled(by: 2, adding: -1), width: width, height: height, method: "bilinear",
            crop: "center")
        func conditioned(_ conditioning: Conditioning) -> Conditioning {
            conditioning.updatingEntries { entry in
                entry.concatImage = pixels
                entry.noiseAugmentation = augmentation
            }
        }
        return NodeOutputs(
            conditioned(try inputs[Self.positive]), conditioned(try inputs[Self.negative]),
            Latent(Tensor(shape: [images.count, 4, height, width])))
    }
}
