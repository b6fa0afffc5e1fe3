import LatentflowIO
import LatentflowTensor

/// Standalone VAE files (`models/vae`, safetensors or PyTorch checkpoints): the LDM layout (bare or under `first_stage_model.`) or
/// diffusers' AutoencoderKL layout, converted through `DiffusersVAEKeyMap`.
public enum StandaloneVAE {
    public static func load(path: String) throws -> (AutoencoderKL, bytes: Int) {
        let (vae, bytes, _) = try loadWithWeights(path: path)
        return (vae, bytes)
    }

    /// `load`, also handing back the LDM-keyed weights the VAE was built from (for saving).
    public static func loadWithWeights(path: String) throws -> (AutoencoderKL, bytes: Int, weights: [String: Parameter])
    {
        let file = try openModelFile(path: path)
        var tensors: [String: Tensor] = [:]
        for key in file.keys {
            let stripped = key.hasPrefix("first_stage_model.") ? String(key.dropFirst("first_stage_model.".count)) : key
            tensors[stripped] = try file.tensor(key)
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
        return (vae, tensors.values.reduce(0) { $0 + $1.count * 4 }, weights)
    }
}
