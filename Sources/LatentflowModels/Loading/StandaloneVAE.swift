import LatentflowIO
import LatentflowTensor

/// Standalone VAE files (`models/vae`, safetensors or PyTorch checkpoints): the LDM layout (bare or
/// under `first_stage_model.`), diffusers' AutoencoderKL layout, converted through
/// `DiffusersVAEKeyMap`, or diffusers' AutoencoderTiny (SDXS's `vae/`), read as TAESD through
/// `DiffusersTinyVAEKeyMap`.
public enum StandaloneVAE {
    /// The autoencoder, its size, and the keys (as in the file) of tensors holding NaN or infinite
    /// values, sorted: they load but decode black or noisy images, so VAELoader warns about them.
    public static func load(path: String) throws -> (any ImageAutoencoder, bytes: Int, nonFiniteTensors: [String]) {
        let loaded = try loadWithWeights(path: path)
        return (loaded.0, loaded.bytes, loaded.nonFiniteTensors)
    }

    /// `load`, also handing back the weights the VAE was built from (for saving): LDM keys for
    /// an AutoencoderKL, `taesd_encoder.*` / `taesd_decoder.*` as ComfyUI's TAESD VAE has them.
    public static func loadWithWeights(path: String) throws -> (
        any ImageAutoencoder, bytes: Int, weights: [String: Parameter], nonFiniteTensors: [String]
    ) {
        let file = try openModelFile(path: path)
        var tensors: [String: Tensor] = [:]
        var nonFinite: [String] = []
        for key in file.keys {
            let stripped = key.hasPrefix("first_stage_model.") ? String(key.dropFirst("first_stage_model.".count)) : key
            let tensor = try file.tensor(key)
            if tensor.hasNonFiniteValues { nonFinite.append(key) }
            tensors[stripped] = tensor
        }
        let (vae, weights) = try autoencoder(tensors, source: path)
        return (vae, tensors.values.reduce(0) { $0 + $1.count * 4 }, weights, nonFinite.sorted())
    }

    /// The autoencoder a VAE state dict holds (keys without `first_stage_model.`) and the weights
    /// it was built from. ComfyUI's VAE finds no weights it knows in an AutoencoderTiny ("No VAE
    /// weights detected") and leaves the VAE empty; a diffusers user loads it as the TAESD it is.
    static func autoencoder(_ tensors: [String: Tensor], source: String) throws -> (
        any ImageAutoencoder, weights: [String: Parameter]
    ) {
        if DiffusersTinyVAEKeyMap.isAutoencoderTiny(tensors) {
            let (taesd, _, weights) = try TAESDFiles.load(diffusersAutoencoderTiny: tensors, source: source)
            return (taesd, weights)
        }
        var tensors = tensors
        if tensors["decoder.conv_in.weight"] != nil,
            tensors.keys.contains(where: { $0.hasPrefix("decoder.up_blocks.") })
        {
            tensors = try DiffusersVAEKeyMap.toLDM(tensors, file: source)
        }
        let store = WeightStore(tensors, source: source)
        let vae = AutoencoderKL(store.root, config: try VAEConfiguration.detect(store.root))
        // VAE files often carry training leftovers (loss, EMA); only model keys are checked.
        let modelKeys = ["encoder.", "decoder.", "quant_conv", "post_quant_conv"]
        try store.verify(unusedUnder: modelKeys)
        let weights = tensors.filter { key, _ in modelKeys.contains { key.hasPrefix($0) } }.mapValues { Parameter($0) }
        return (vae, weights)
    }
}
