import Foundation
import LatentflowIO
import LatentflowTensor

/// Builds the embedded default: a tiny SD1.5-architecture checkpoint (UNet, VAE with SD's /8
/// latent geometry, CLIP with the real 49408-token vocabulary) with seeded random weights, in the
/// single-file LDM layout, stored as float16 (a few MB).
public enum TinyModelFactory {
    public static let unet: UNetConfiguration = {
        var c = UNetConfiguration()
        c.modelChannels = 32
        c.channelMultipliers = [1, 2]
        c.resBlocksPerLevel = 1
        c.attentionLevels = [true, false]
        c.contextDim = 32
        c.heads = 8
        return c
    }()

    public static let vae: VAEConfiguration = {
        var c = VAEConfiguration()
        c.channels = 32
        c.channelMultipliers = [1, 1, 1, 1]
        c.resBlocks = 1
        return c
    }()

    public static let clip: CLIPTextConfiguration = {
        var c = CLIPTextConfiguration()
        c.width = 32
        c.layers = 2
        c.heads = 1
        c.mlpWidth = 64
        return c
    }()

    /// The tiny UNet as an inpainting model: 9 input channels (latent, mask, masked-image latent),
    /// as SD1.5-inpainting's `input_blocks.0.0.weight` has.
    public static let inpaintingUNet: UNetConfiguration = {
        var c = unet
        c.inChannels = 9
        return c
    }()

    /// The checkpoint's tensors, keyed as a single-file SD1.5 checkpoint.
    public static func makeCheckpoint(seed: UInt64 = 20_261_123) -> [(String, Tensor)] {
        makeCheckpoint(seed: seed, unet: unet, vae: vae, clip: clip)
    }

    /// The tiny inpainting checkpoint's tensors (its own seed: every weight differs from the plain one's).
    public static func makeInpaintingCheckpoint(seed: UInt64 = 20_261_124) -> [(String, Tensor)] {
        makeCheckpoint(seed: seed, unet: inpaintingUNet, vae: vae, clip: clip)
    }

    /// A full-size SD1.5 checkpoint with seeded random weights (about 2 GB in float16), for
    /// whole-workflow parity runs against ComfyUI, which only recognises real SD1.5 shapes.
    public static func makeFullSizeCheckpoint(seed: UInt64 = 1_500) -> [(String, Tensor)] {
        makeCheckpoint(seed: seed, unet: .sd15, vae: .sd15, clip: .vitL14)
    }

    static func makeCheckpoint(
        seed: UInt64, unet: UNetConfiguration, vae: VAEConfiguration, clip: CLIPTextConfiguration
    ) -> [(String, Tensor)] {
        let random = RandomWeights(seed: seed)
        var result: [(String, Tensor)] = []
        for (prefix, build) in [
            ("model.diffusion_model.", { (s: WeightScope) in _ = UNet(s, config: unet) }),
            ("first_stage_model.", { (s: WeightScope) in _ = AutoencoderKL(s, config: vae) }),
            ("cond_stage_model.transformer.text_model.", { (s: WeightScope) in _ = CLIPTextModel(s, config: clip) }),
        ] {
            let store = random.store(source: "tiny model")
            build(store.root)
            result += store.parameters.sorted { $0.key < $1.key }.map { (prefix + $0.key, $0.value.tensor()) }
        }
        return result
    }

    /// A kohya-format LoRA for the tiny UNet (every attention projection and the first ResBlock
    /// convolutions, rank 4, alpha 4) and text encoder: the embedded stand-in for an LCM-LoRA.
    public static func makeLoRA(seed: UInt64 = 7) -> [(String, Tensor)] {
        makeLoRA(for: makeCheckpoint().map { ($0.0, $0.1.shape) }, seed: seed)
    }

    /// The same kind of LoRA for any SD1.5 checkpoint, given its keys and shapes: the q and v
    /// projections of every UNet attention, the first convolution of every ResBlock and the text
    /// encoder's q projections, with LDM-style kohya names (`lora_unet_input_blocks_1_1_...`).
    public static func makeLoRA(for checkpoint: [(key: String, shape: [Int])], seed: UInt64 = 7) -> [(String, Tensor)] {
        var state = seed
        func random(_ shape: [Int], _ scale: Float) -> Tensor {
            Tensor(shape: shape) { out in
                for i in 0..<out.count {
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    out[i] = (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
                }
            }
        }
        let shapes = Dictionary(checkpoint.map { ($0.key, $0.shape) }, uniquingKeysWith: { a, _ in a })
        var items: [(String, Tensor)] = []
        let targets = shapes.keys.sorted().filter { key in
            (key.hasPrefix("model.diffusion_model.")
                && (key.contains(".to_q.weight") || key.contains(".to_v.weight")
                    || key.contains("in_layers.2.weight")))
                || (key.hasPrefix("cond_stage_model.") && key.contains("q_proj.weight"))
        }
        for key in targets {
            let shape = shapes[key]!
            let module = String(key.dropLast(".weight".count))
            let base =
                module.hasPrefix("model.diffusion_model.")
                ? "lora_unet_"
                    + module.dropFirst("model.diffusion_model.".count).replacingOccurrences(of: ".", with: "_")
                : "lora_te_text_model_"
                    + module.dropFirst("cond_stage_model.transformer.text_model.".count).replacingOccurrences(
                        of: ".", with: "_")
            let rank = 4
            let fanIn = shape.dropFirst().reduce(1, *)
            items.append(
                (base + ".lora_down.weight", random([rank] + shape.dropFirst(), 1 / Float(fanIn).squareRoot())))
            items.append(
                (base + ".lora_up.weight", random([shape[0], rank] + (shape.count == 4 ? [1, 1] : []), 0.05)))
            items.append((base + ".alpha", Tensor(shape: [], repeating: Float(rank))))
        }
        return items
    }

    public static func writeLoRA(to url: URL, for checkpoint: SafeTensorsFile? = nil) throws {
        let tensors = checkpoint.map { makeLoRA(for: $0.entries.map { ($0.key, $0.shape) }) } ?? makeLoRA()
        let items = tensors.map { SafeTensorsWriter.Item($0.0, $0.1, dtype: .float16) }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let description =
            checkpoint == nil
            ? "Latentflow's tiny test LoRA (random weights)" : "Latentflow's test LoRA (random weights)"
        try SafeTensorsWriter.write(items, metadata: ["format": "pt", "description": description], to: url)
    }

    public static func write(to url: URL, fullSize: Bool = false, inpainting: Bool = false) throws {
        let tensors =
            fullSize ? makeFullSizeCheckpoint() : inpainting ? makeInpaintingCheckpoint() : makeCheckpoint()
        let items = tensors.map { SafeTensorsWriter.Item($0.0, $0.1, dtype: .float16) }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let kind = inpainting ? "SD1.5-inpainting-architecture" : "SD1.5-architecture"
        try SafeTensorsWriter.write(
            items,
            metadata: ["format": "pt", "description": "Latentflow's tiny \(kind) test model (random weights)"], to: url)
    }
}

/// Seeded random weights for a model built over an empty store: uniform in ±1.7/sqrt(fan-in)
/// for matrices and kernels, near 1 for normalisation scales, small elsewhere. One generator
/// runs through every store it makes, so a sequence of models is reproducible as a whole.
public final class RandomWeights: @unchecked Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// An empty store that fills every tensor a model asks for.
    public func store(source: String) -> WeightStore {
        let store = WeightStore([String: Parameter](), source: source)
        store.synthesize = { [self] key, shape in self.tensor(key: key, shape: shape) }
        return store
    }

    func tensor(key: String, shape: [Int]) -> Tensor {
        let fanIn = shape.count > 1 ? shape.dropFirst().reduce(1, *) : 1
        let isNormWeight =
            key.hasSuffix("weight")
            && (key.contains("norm") || key.contains("in_layers.0") || key.contains("out_layers.0")
                || key.hasPrefix("out.0"))
        let scale: Float = shape.count == 1 ? (isNormWeight ? 0.1 : 0.02) : 1 / Float(fanIn).squareRoot()
        return Tensor(shape: shape) { out in
            for i in 0..<out.count {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let uniform = Float(state >> 40) / Float(1 << 24) * 2 - 1
                out[i] = (isNormWeight ? 1 : 0) + uniform * scale * 1.7
            }
        }
    }
}
