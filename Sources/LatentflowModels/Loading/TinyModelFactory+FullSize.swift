import Foundation
import LatentflowIO
import LatentflowTensor

/// Full-size random stand-ins for the benchmark's fast paths (no download): SD-Turbo's
/// architecture (SD2.1-base) and madebyollin's TAESD.
extension TinyModelFactory {
    /// SD2.1-base's UNet, as SD-Turbo's `unet/config.json` and ComfyUI's `SD20` describe it:
    /// SD1.5's levels with 64-wide heads, a 1024-wide context and linear transformer projections.
    public static let sd21BaseUNet: UNetConfiguration = {
        var c = UNetConfiguration()
        c.contextDim = 1024
        c.linearProjection = true
        c.heads = nil
        c.headWidth = 64
        return c
    }()

    /// The tensors of an SD2.x single-file checkpoint (LDM UNet and VAE keys, the OpenCLIP text
    /// tower under `cond_stage_model.model.` with `text_projection` and `logit_scale`) with seeded
    /// random weights. The UNet's weights keep `PredictionType.guess` at eps (their LayerNorm
    /// biases spread far less than SD2.1-768's), as SD2.1-base and SD-Turbo are.
    public static func makeSD2Checkpoint(
        seed: UInt64 = 2_101, unet: UNetConfiguration = sd21BaseUNet, vae: VAEConfiguration = .sd15,
        clip: CLIPTextConfiguration = .openCLIPViTH14
    ) throws -> [(String, Tensor)] {
        let random = RandomWeights(seed: seed)
        var result: [(String, Tensor)] = []
        for (prefix, build) in [
            ("model.diffusion_model.", { (s: WeightScope) in _ = UNet(s, config: unet) }),
            ("first_stage_model.", { (s: WeightScope) in _ = AutoencoderKL(s, config: vae) }),
        ] {
            let store = random.store(source: "random SD2.x model")
            build(store.root)
            result += store.parameters.sorted { $0.key < $1.key }.map { (prefix + $0.key, $0.value.tensor()) }
        }
        let text = random.store(source: "random OpenCLIP text tower")
        _ = CLIPTextModel(text.root, config: clip)
        let hf = text.parameters.mapValues { $0.tensor() }
        let textPrefix = "cond_stage_model.model."
        result += try OpenCLIPTextKeyMap.openCLIPLayout(hf).map { (textPrefix + $0.0, $0.1) }
        result.append(
            (textPrefix + "text_projection", random.tensor(key: "text_projection", shape: [clip.width, clip.width])))
        result.append((textPrefix + "logit_scale", Tensor(shape: [], repeating: 4.6052)))  // log(100), OpenCLIP's
        return result
    }

    /// Writes `makeSD2Checkpoint` as float16 safetensors (about 2.6 GB at full size).
    public static func writeSD2(
        to url: URL, unet: UNetConfiguration = sd21BaseUNet, vae: VAEConfiguration = .sd15,
        clip: CLIPTextConfiguration = .openCLIPViTH14
    ) throws {
        let items = try makeSD2Checkpoint(unet: unet, vae: vae, clip: clip).map {
            SafeTensorsWriter.Item($0.0, $0.1, dtype: .float16)
        }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try SafeTensorsWriter.write(
            items,
            metadata: [
                "format": "pt", "description": "Latentflow's SD2.1-base-architecture test model (random weights)",
            ],
            to: url)
    }

    /// TAESD's encoder and decoder tensors under the keys madebyollin's files have (`0.weight`,
    /// `1.conv.0.weight`, ...), seeded random weights; width 64 is the released architecture.
    public static func makeTAESD(width: Int = 64, latentChannels: Int = 4, seed: UInt64 = 64)
        -> (encoder: [(String, Tensor)], decoder: [(String, Tensor)])
    {
        let random = RandomWeights(seed: seed)
        let encoder = random.store(source: "random TAESD encoder")
        _ = TAESDEncoder(encoder.root, width: width, latentChannels: latentChannels)
        let decoder = random.store(source: "random TAESD decoder")
        _ = TAESDDecoder(decoder.root, width: width, latentChannels: latentChannels)
        func sorted(_ store: WeightStore) -> [(String, Tensor)] {
            store.parameters.sorted { $0.key < $1.key }.map { ($0.key, $0.value.tensor()) }
        }
        return (sorted(encoder), sorted(decoder))
    }

    /// `makeTAESD` as `taesd_encoder.safetensors` and `taesd_decoder.safetensors` (float16) in
    /// `folder` (a `models/vae_approx`), which `VAELoader` then lists as `taesd`.
    public static func writeTAESD(to folder: URL, width: Int = 64) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let (encoder, decoder) = makeTAESD(width: width)
        for (name, tensors) in [("taesd_encoder", encoder), ("taesd_decoder", decoder)] {
            try SafeTensorsWriter.write(
                tensors.map { SafeTensorsWriter.Item($0.0, $0.1, dtype: .float16) },
                metadata: ["format": "pt", "description": "Latentflow's random \(width)-wide TAESD stand-in"],
                to: folder.appendingPathComponent(name + ".safetensors"))
        }
    }

    /// A random full TAESD (encoder and decoder) in memory, at SD1.x's scale as `VAELoader` loads it.
    public static func randomTAESD(width: Int = 64, seed: UInt64 = 64) -> TAESD {
        let random = RandomWeights(seed: seed)
        let encoder = random.store(source: "random TAESD encoder")
        let decoder = random.store(source: "random TAESD decoder")
        return TAESD(
            encoder: encoder.root, decoder: decoder.root, width: width, latentChannels: 4,
            vaeScale: TAESDFiles.sd15Scale, vaeShift: 0)
    }
}
