import Foundation
import LatentflowIO
import LatentflowTensor

/// The three models of an SD1.x-family checkpoint.
public struct StableDiffusionModels: Sendable {
    public let unet: UNet
    /// AutoencoderKL, or TAESD where a diffusers folder's `vae/` is an AutoencoderTiny (SDXS).
    public let vae: any ImageAutoencoder
    public let textModel: CLIPTextModel?
    public let source: String
    /// Bytes each model keeps in memory, for cache budgets.
    public let unetBytes: Int, vaeBytes: Int, textBytes: Int
    /// The base weights (shared with the models, not copied), for LoRA patching.
    public let unetWeights: [String: Parameter], textWeights: [String: Parameter]
    public let textWeightsAreFloat16: Bool
    /// The VAE's weights (LDM keys without `first_stage_model.`), for saving.
    public var vaeWeights: [String: Parameter] = [:]
    /// How the UNet's output is read, as ComfyUI guesses it from the weights.
    public let prediction: PredictionType
    /// Keys of the tensors holding NaN or infinite values (checked for float32 residency), sorted:
    /// such weights load but give black or noisy images, so the loader nodes warn about them.
    public var nonFiniteTensors: [String] = []

    /// The warning a loader gives for `nonFiniteTensors`, nil when there are none.
    public var nonFiniteWarning: String? { nonFiniteWeightsWarning(nonFiniteTensors) }
}

/// The warning a loader gives for weights holding NaN or infinite values (the first 8 keys named),
/// nil when there are none.
public func nonFiniteWeightsWarning(_ keys: [String]) -> String? {
    guard !keys.isEmpty else { return nil }
    return "\(keys.count) tensor(s) hold NaN or infinite values, which give black or noisy images: "
        + keys.prefix(8).joined(separator: ", ") + (keys.count > 8 ? ", …" : "")
}

/// Loads single-file checkpoints in the LDM layout (`model.diffusion_model.`,
/// `first_stage_model.`, and `cond_stage_model.transformer.` for SD1.x's CLIP ViT-L or
/// `cond_stage_model.model.` for SD2.x's OpenCLIP ViT-H) from float32, float16 or bfloat16
/// safetensors or PyTorch checkpoints (`.ckpt`: the `state_dict` entry, else the top-level dict,
/// as ComfyUI's `load_torch_file`). The file is memory-mapped and widened tensor by tensor, so
/// a 2 GB float16 file never sits in memory twice; with `.streamed` residency the weights stay in the file and are
/// widened layer by layer as the models run (low-memory mode). Loading is strict: missing keys, unexpected keys and shape
/// mismatches are all listed, by file and key.
public enum StableDiffusionCheckpoint {
    static let unetPrefix = "model.diffusion_model."
    static let vaePrefix = "first_stage_model."
    static let clipPrefixes = ["cond_stage_model.transformer.text_model.", "cond_stage_model.transformer."]

    /// - Parameter roundCLIPToFloat16: round text-encoder weights to float16 once, as ComfyUI does
    ///   on CPU (it keeps the text encoder in float16 and computes in float32).
    /// - Parameter unetResidency: how the UNet's weights are kept, where not as `residency` says
    ///   (`.bfloat16` for ComfyUI's `--bf16-unet`).
    public static func load(
        path: String, roundCLIPToFloat16: Bool = true, residency: WeightResidency = .float32,
        unetResidency: WeightResidency? = nil
    ) throws -> StableDiffusionModels {
        // Told by content, not extension: a pickle is never reported as a bad safetensors header.
        let file = try openModelFile(path: path)
        let parts = try readParts(
            of: file, path: path, roundCLIPToFloat16: roundCLIPToFloat16, residency: residency,
            unetResidency: unetResidency)
        guard !parts.unet.isEmpty else {
            throw ModelLoadError.unrecognized(
                file: path,
                reason:
                    "not an SD1.x-family checkpoint: no '\(unetPrefix)' keys (found e.g. \(file.keys.prefix(3).joined(separator: ", ")))"
            )
        }
        let unet = try buildUNet(parts.unet, source: path + " (" + unetPrefix + "*)")

        let vaeStore = WeightStore(parts.vae, source: path + " (" + vaePrefix + "*)")
        let vae = AutoencoderKL(vaeStore.root, config: try VAEConfiguration.detect(vaeStore.root))
        try vaeStore.verify()

        let textModel =
            parts.clip.isEmpty
            ? nil
            : try buildTextModel(
                parts.clip, openCLIP: parts.openCLIP,
                source: path + (parts.openCLIP ? " (cond_stage_model.model.*)" : " (cond_stage_model.transformer.*)"))
        var models = StableDiffusionModels(
            unet: unet, vae: vae, textModel: textModel, source: path,
            unetBytes: parts.unet.residentBytes, vaeBytes: parts.vae.residentBytes,
            textBytes: parts.clip.residentBytes,
            unetWeights: parts.unet, textWeights: parts.clip, textWeightsAreFloat16: roundCLIPToFloat16,
            prediction: .guess(unet.config, weights: parts.unet))
        models.nonFiniteTensors = parts.nonFinite.sorted()
        models.vaeWeights = parts.vae
        return models
    }

    /// A checkpoint's tensors sorted into its three models, under the keys each model reads
    /// (LDM keys for the UNet and VAE, HF keys without `text_model.` for the text encoder).
    struct Parts {
        var unet: [String: Parameter] = [:], vae: [String: Parameter] = [:], clip: [String: Parameter] = [:]
        /// The text encoder came in OpenCLIP's layout (SD2.x).
        var openCLIP = false
        var nonFinite: Set<String> = []
    }

    /// Sorts `file`'s tensors by checkpoint prefix. `checkpointKey` names each file key as a
    /// full checkpoint would (standalone UNet and text-encoder files add the prefix they lack);
    /// nil drops the key.
    static func readParts(
        of file: any TensorArchive, path: String, roundCLIPToFloat16: Bool, residency: WeightResidency,
        unetResidency: WeightResidency? = nil, checkpointKey: (String) -> String? = { $0 }
    ) throws -> Parts {
        var parts = Parts()
        var key = ""
        func parameter(
            _ entry: ArchivedTensor, roundToFloat16: Bool = false, residency: WeightResidency = residency
        ) throws -> Parameter {
            if residency == .streamed { return Parameter(streaming: entry, roundToFloat16: roundToFloat16) }
            var tensor = try entry.tensor()
            entry.releasePages()
            if tensor.hasNonFiniteValues { parts.nonFinite.insert(key) }
            if residency == .bfloat16 { return Parameter(bfloat16: tensor) }
            if roundToFloat16 { tensor = try Tensor(shape: tensor.shape, float16Bits: tensor.float16Bits) }
            return Parameter(tensor)
        }
        for (fileKey, entry) in try ArchivedTensor.entries(of: file) {
            guard let entryKey = checkpointKey(fileKey) else { continue }
            key = fileKey
            if entryKey.hasPrefix(unetPrefix) {
                parts.unet[String(entryKey.dropFirst(unetPrefix.count))] = try parameter(
                    entry, residency: unetResidency ?? residency)
            } else if entryKey.hasPrefix(vaePrefix) {
                parts.vae[String(entryKey.dropFirst(vaePrefix.count))] = try parameter(entry)
            } else if let prefix = clipPrefixes.first(where: { entryKey.hasPrefix($0) }) {
                parts.clip[String(entryKey.dropFirst(prefix.count))] = try parameter(
                    entry, roundToFloat16: roundCLIPToFloat16)
            } else if let prefix = OpenCLIPTextKeyMap.prefixes.first(where: { entryKey.hasPrefix($0) }) {
                parts.openCLIP = true
                let name = String(entryKey.dropFirst(prefix.count))
                switch OpenCLIPTextKeyMap.target(name) {
                case .renamed(let hfName)?:
                    parts.clip[hfName] = try parameter(entry, roundToFloat16: roundCLIPToFloat16)
                case .split(let names)?:
                    guard (1...2).contains(entry.shape.count), !entry.shape.contains(0) else {
                        throw ModelLoadError.unexpectedShape(
                            file: path, key: key, found: entry.shape,
                            expected: "1 or 2 non-zero dimensions, \(names.count) equal row blocks")
                    }
                    let rows = (entry.shape.first ?? 0) / names.count
                    for (index, hfName) in names.enumerated() {
                        guard rows * names.count == entry.shape.first,
                            let part = entry.rows(index * rows..<(index + 1) * rows, key: key)
                        else {
                            throw ModelLoadError.keys(
                                file: path, missing: [], unexpected: [],
                                mismatched: [
                                    "\(key): \(entry.shape) does not split into \(names.count) equal row blocks"
                                ])
                        }
                        parts.clip[hfName] = try parameter(part, roundToFloat16: roundCLIPToFloat16)
                    }
                case .unused?:
                    break
                case nil:
                    parts.clip[key] = try parameter(entry)  // reported as unexpected below
                }
            }
        }
        return parts
    }

    /// The UNet of LDM-keyed weights, shaped by what the weights hold; every key must fit.
    /// - Parameter configure: adds what the weights do not say to the detected configuration.
    static func buildUNet(
        _ tensors: [String: Parameter], source: String, configure: (inout UNetConfiguration) -> Void = { _ in }
    ) throws -> UNet {
        let store = WeightStore(tensors, source: source)
        var config = try UNetConfiguration.detect(store.root)
        configure(&config)
        let unet = UNet(store.root, config: config)
        try store.verify()
        return unet
    }

    /// The text encoder of HF-keyed weights (OpenCLIP conventions when they came in its layout).
    static func buildTextModel(
        _ tensors: [String: Parameter], openCLIP: Bool, penultimateByDefault: Bool = true, source: String
    ) throws -> CLIPTextModel {
        let store = WeightStore(tensors, source: source)
        var config = try CLIPTextConfiguration.detect(store.root)
        if openCLIP { config.useOpenCLIPConventions(penultimateByDefault: penultimateByDefault) }
        let model = CLIPTextModel(store.root, config: config)
        try store.verify(ignoring: {
            $0.hasSuffix("position_ids") || $0.hasPrefix("text_projection") || $0 == "logit_scale"
        })
        return model
    }
}

extension Tensor {
    /// Whether any value is NaN or infinite: all exponent bits set. An integer max over the bit
    /// patterns, which the compiler vectorises, so a scan costs a fraction of the widening before it.
    public var hasNonFiniteValues: Bool {
        withUnsafeBufferPointer { values in
            values.withMemoryRebound(to: UInt32.self) { bits in
                var exponent: UInt32 = 0
                for pattern in bits { exponent = max(exponent, pattern & 0x7F80_0000) }
                return exponent == 0x7F80_0000
            }
        }
    }
}
