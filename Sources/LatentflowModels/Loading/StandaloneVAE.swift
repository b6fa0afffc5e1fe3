import LatentflowIO
import LatentflowTensor

/// Standalone VAE files (`models/vae`, safetensors or PyTorch checkpoints): the LDM layout (bare or under `first_stage_model.`) or
/// diffusers' AutoencoderKL layout, converted through `DiffusersVAEKeyMap`.
public enum StandaloneVAE {
    /// The autoencoder, its size, and the keys (as in the file) of tensors holding NaN or infinite
    /// values, sorted: they load but decode black or noisy images, so VAELoader warns about them.
    public static func load(path: String) throws -> (AutoencoderKL, bytes: Int, nonFiniteTensors: [String]) {
        let loaded = try loadWithWeights(path: path)
        return (loaded.0, loaded.bytes, loaded.nonFiniteTensors)
    }

    /// `load`, also handing back the LDM-keyed weights the VAE was built from (for saving).
    public static func loadWithWeights(path: String) throws -> (
        AutoencoderKL, bytes: Int, weights: [String: Parameter], nonFiniteTensors: [String]
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
        // SDXS's vae/ (diffusers AutoencoderTiny): ComfyUI's VAE finds no weights it knows in it
        // ("No VAE weights detected") and leaves the VAE empty; this says what to load instead.
        if tensors["encoder.layers.0.weight"] != nil, tensors["decoder.layers.0.weight"] != nil {
            throw ModelLoadError.unrecognized(
                file: path,
                reason:
                    "a diffusers AutoencoderTiny (encoder.layers.*, decoder.layers.*), which ComfyUI's VAELoader does not load either: put TAESD's taesd_encoder and taesd_decoder files in models/vae_approx and choose \"taesd\""
            )
        }
        if tensors["decoder.conv_in.weight"] != nil,
            tensors.keys.contains(where: { $0.hasPrefix("decoder.up_blocks.") })
        {
            tensors = try DiffusersVAEKeyMap.toLDM(tensors, file: path)
        }
        let store = WeightStore(tensors, source: path)
        let vae = AutoencoderKL(store.root, config: try VAEConfiguration.detect(store.root))
        // VAE files often carry training leftovers (loss, EMA); only model keys are checked.
        try store.verify(unusedUnder: ["encoder.", "decoder.", "quant_conv", "post_quant_conv"])
        let modelKeys = ["encoder.", "decoder.", "quant_conv", "post_quant_conv"]
        let weights = tensors.filter { key, _ in modelKeys.contains { key.hasPrefix($0) } }.mapValues { Parameter($0) }
        return (vae, tensors.values.reduce(0) { $0 + $1.count * 4 }, weights, nonFinite.sorted())
    }
}
