import LatentflowGraph
import LatentflowModels

extension NodeOutputs {
    /// MODEL, CLIP and VAE of a loaded checkpoint, as the checkpoint loaders all return them.
    static func checkpoint(_ models: StableDiffusionModels, text: CLIPTextModel) -> NodeOutputs {
        NodeOutputs(
            DiffusionModel(models),
            TextEncoder(
                model: text, byteCount: models.textBytes, weights: models.textWeights,
                weightsAreFloat16: models.textWeightsAreFloat16),
            VAEModel(autoencoder: models.vae, byteCount: models.vaeBytes, weights: models.vaeWeights))
    }
}
