import LatentflowGraph
import LatentflowModels
import LatentflowTensor

extension NodeOutputs {
    /// MODEL, CLIP and VAE of a loaded checkpoint, as the checkpoint loaders all return them.
    /// `precision`: what the UNet computes in (the settings' `unetPrecision`).
    static func checkpoint(
        _ models: StableDiffusionModels, text: CLIPTextModel, precision: ProductPrecision
    ) -> NodeOutputs {
        NodeOutputs(
            DiffusionModel(models, computePrecision: precision),
            TextEncoder(
                model: text, byteCount: models.textBytes, weights: models.textWeights,
                weightsAreFloat16: models.textWeightsAreFloat16),
            VAEModel(autoencoder: models.vae, byteCount: models.vaeBytes, weights: models.vaeWeights))
    }
}
