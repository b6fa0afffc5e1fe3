import LatentflowGraph
import LatentflowTensor

/// Prepares an inpainting model's conditioning: the masked image's latent and the mask ride on
/// both conditionings (for the UNet's extra input channels), the whole image's latent is returned
/// for sampling, with the mask as its noise mask unless `noise_mask` is off.
///
/// Matches: ComfyUI `nodes.py` `InpaintModelConditioning.encode` (`concat_latent_image`,
/// `concat_mask` set by `node_helpers.conditioning_set_values`). Unlike VAEEncodeForInpaint it
/// crops the masked image and the mask to multiples of 8 whatever the VAE's factor (ComfyUI
/// v0.3.64 writes the 8 out); the model's concat conditioning resizes that latent to the sampled one.
public struct InpaintModelConditioning: Node {
    static let positive = Input<Conditioning>("positive")
    static let negative = Input<Conditioning>("negative")
    static let vae = Input<VAEModel>("vae")
    static let pixels = Input<ImageBatch>("pixels")
    static let mask = Input<Mask>("mask")
    static let noiseMask = Input.boolean(
        "noise_mask", default: true,
        tooltip:
            "Add a noise mask to the latent so sampling will only happen within the mask. Might improve results or completely break things depending on the model."
    )

    public static let schema = NodeSchema(
        "InpaintModelConditioning", category: "conditioning/inpaint",
        inputs: [positive, negative, vae, pixels, mask, noiseMask],
        outputs: outputs(Output<Conditioning>("positive"), Output<Conditioning>("negative"), Output<Latent>("latent")))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let vae = try inputs[Self.vae].autoencoder, image = try inputs[Self.pixels]
        let prepared = try InpaintPixels(image: image, mask: try inputs[Self.mask], factor: 8)
        let concatLatent = try encodeImages(prepared.maskedPixels, vae, context)
        let latent = Latent(
            try encodeImages(try image.channelsFirst(), vae, context),
            noiseMask: try inputs[Self.noiseMask] ? prepared.mask : nil)
        func conditioned(_ conditioning: Conditioning) -> Conditioning {
            Conditioning(
                conditioning.entries.map { entry in
                    var entry = entry
                    (entry.concatLatentImage, entry.concatMask) = (concatLatent, prepared.mask)
                    return entry
                })
        }
        return NodeOutputs(
            conditioned(try inputs[Self.positive]), conditioned(try inputs[Self.negative]), latent)
    }
}
