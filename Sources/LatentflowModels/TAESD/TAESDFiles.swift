import LatentflowIO
import LatentflowTensor

/// TAESD's two files (`models/vae_approx/taesd_encoder.*`, `taesd_decoder.*`: safetensors or
/// PyTorch pickles), read as ComfyUI reads them.
///
/// Matches: ComfyUI `nodes.py` `VAELoader.load_taesd` (the `taesd_encoder.` / `taesd_decoder.`
/// key prefixes it adds, `vae_scale` 0.18215 and `vae_shift` 0 for `taesd`) and
/// `latent_preview.py` `get_previewer` (the decoder alone, scale 1, for previews).
public enum TAESDFiles {
    /// SD1.x/SD2.x's latent scale, which `load_taesd` gives `taesd` as `vae_scale`.
    public static let sd15Scale: Float = 0.18215

    /// The full TAESD for `VAELoader`, its size, and its weights under the keys ComfyUI's VAE
    /// state dict has (`taesd_encoder.*`, `taesd_decoder.*`, `vae_scale`, `vae_shift`).
    public static func load(encoderPath: String, decoderPath: String, vaeScale: Float = sd15Scale, vaeShift: Float = 0)
        throws -> (TAESD, bytes: Int, weights: [String: Parameter])
    {
        try load(
            encoder: WeightStore(readTensors(encoderPath), source: encoderPath),
            decoder: WeightStore(readTensors(decoderPath), source: decoderPath), vaeScale: vaeScale,
            vaeShift: vaeShift)
    }

    /// The TAESD a diffusers `AutoencoderTiny` file holds (SDXS's `vae/`), read through
    /// `DiffusersTinyVAEKeyMap`, with SD1.x's `vae_scale` as `taesd` has it: diffusers runs it on
    /// the model-space latents ComfyUI's `taesd` reaches by that scale.
    public static func load(diffusersAutoencoderTiny tensors: [String: Tensor], source: String) throws -> (
        TAESD, bytes: Int, weights: [String: Parameter]
    ) {
        let (encoder, decoder) = try DiffusersTinyVAEKeyMap.toTAESD(tensors, file: source)
        let encoderStore = WeightStore(encoder, source: source + " (encoder)")
        do {
            return try load(
                encoder: encoderStore, decoder: WeightStore(decoder, source: source + " (decoder)"),
                vaeScale: sd15Scale, vaeShift: 0)
        } catch ModelLoadError.keys(let file, let missing, let unexpected, let mismatched) {
            // Name the keys as the file has them, not as TAESD numbers them.
            let part = file == encoderStore.source ? "encoder" : "decoder"
            func named(_ key: String) -> String { DiffusersTinyVAEKeyMap.diffusersName(key, part: part) }
            throw ModelLoadError.keys(
                file: source, missing: missing.map(named), unexpected: unexpected.map(named),
                mismatched: mismatched.map(named))
        } catch ModelLoadError.unrecognized(_, let reason) {
            throw ModelLoadError.unrecognized(
                file: source,
                reason:
                    "a diffusers AutoencoderTiny not laid out as TAESD (encoder blocks 1, 3, 3, 3; decoder blocks 3, 3, 3, 1): \(reason), in TAESD's numbering"
            )
        }
    }

    static func load(encoder: WeightStore, decoder: WeightStore, vaeScale: Float, vaeShift: Float) throws -> (
        TAESD, bytes: Int, weights: [String: Parameter]
    ) {
        let (width, latentChannels) = try decoderShape(decoder.root)
        let encoderChannels = try encoderShape(encoder.root)
        guard encoderChannels.width == width, encoderChannels.latentChannels == latentChannels else {
            throw ModelLoadError.unrecognized(
                file: encoder.source,
                reason:
                    "this TAESD encoder is \(encoderChannels.width) wide with \(encoderChannels.latentChannels) latent channels, but its decoder (\(decoder.source)) is \(width) wide with \(latentChannels)"
            )
        }
        let taesd = TAESD(
            encoder: encoder.root, decoder: decoder.root, width: width, latentChannels: latentChannels,
            vaeScale: vaeScale, vaeShift: vaeShift)
        try encoder.verify()
        try decoder.verify()
        var weights: [String: Parameter] = [:]
        for (key, value) in encoder.parameters { weights["taesd_encoder." + key] = value }
        for (key, value) in decoder.parameters { weights["taesd_decoder." + key] = value }
        weights["vae_scale"] = Parameter(Tensor(shape: [], repeating: vaeScale))
        weights["vae_shift"] = Parameter(Tensor(shape: [], repeating: vaeShift))
        let bytes = weights.values.reduce(0) { $0 + $1.shape.reduce(1, *) * 4 }
        return (taesd, bytes, weights)
    }

    /// The decoder alone, at scale 1 (it decodes the sampler's model-space latents): the previewer's.
    public static func loadDecoder(path: String) throws -> TAESD {
        let decoder = try WeightStore(readTensors(path), source: path)
        let (width, latentChannels) = try decoderShape(decoder.root)
        let taesd = TAESD(
            encoder: nil, decoder: decoder.root, width: width, latentChannels: latentChannels, vaeScale: 1,
            vaeShift: 0)
        try decoder.verify()
        return taesd
    }

    static func readTensors(_ path: String) throws -> [String: Tensor] {
        let file = try openModelFile(path: path)
        var tensors: [String: Tensor] = [:]
        for key in file.keys { tensors[key] = try file.tensor(key) }
        return tensors
    }

    /// Width and latent channels from the decoder's first conv, `1.weight` `[width, latent, 3, 3]`.
    static func decoderShape(_ scope: WeightScope) throws -> (width: Int, latentChannels: Int) {
        guard let shape = try scope.checkedShape("1.weight", rank: 4) else {
            throw ModelLoadError.unrecognized(
                file: scope.store.source, reason: "no TAESD decoder found (missing 1.weight, its first convolution)")
        }
        try scope.require(
            shape[2] == 3 && shape[3] == 3, "1.weight", expected: "a 3x3 convolution [width, latent channels, 3, 3]")
        return (shape[0], shape[1])
    }

    /// Width and latent channels from the encoder's first and last convs, `0.weight`
    /// `[width, 3, 3, 3]` and `14.weight` `[latent, width, 3, 3]`.
    static func encoderShape(_ scope: WeightScope) throws -> (width: Int, latentChannels: Int) {
        guard let first = try scope.checkedShape("0.weight", rank: 4),
            let last = try scope.checkedShape("14.weight", rank: 4)
        else {
            throw ModelLoadError.unrecognized(
                file: scope.store.source, reason: "no TAESD encoder found (missing 0.weight or 14.weight)")
        }
        try scope.require(first[1] == 3, "0.weight", expected: "[width, 3, 3, 3] (RGB in)")
        return (first[0], last[0])
    }
}
