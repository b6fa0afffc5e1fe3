import Foundation
import LatentflowIO
import LatentflowTensor

/// The three models of an SD1.x-family checkpoint.
public struct StableDiffusionModels: Sendable {
    public let unet: UNet
    public let vae: AutoencoderKL
    public let textModel: CLIPTextModel?
    public let source: String
    /// Bytes each model keeps in memory, for cache budgets.
    public let unetBytes: Int, vaeBytes: Int, textBytes: Int
    /// The base weights (shared with the models, not copied), for LoRA patching.
    public let unetWeights: [String: Parameter], textWeights: [String: Parameter]
    public let textWeightsAreFloat16: Bool
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
    public static func load(path: String, roundCLIPToFloat16: Bool = true, residency: WeightResidency = .float32) throws
        -> StableDiffusionModels
    {
        // Told by content, not extension: a pickle is never reported as a bad safetensors header.
        let file = try openModelFile(path: path)
        var unetTensors: [String: Parameter] = [:], vaeTensors: [String: Parameter] = [:],
            clipTensors: [String: Parameter] = [:]
        var openCLIP = false
        var nonFinite: Set<String> = []
        var key = ""
        func parameter(_ entry: ArchivedTensor, roundToFloat16: Bool = false) throws -> Parameter {
            if residency == .streamed { return Parameter(streaming: entry, roundToFloat16: roundToFloat16) }
            var tensor = try entry.tensor()
            entry.releasePages()
            if tensor.hasNonFiniteValues { nonFinite.insert(key) }
            if roundToFloat16 { tensor = try Tensor(shape: tensor.shape, float16Bits: tensor.float16Bits) }
            return Parameter(tensor)
        }
        for (entryKey, entry) in try ArchivedTensor.entries(of: file) {
            key = entryKey
            if key.hasPrefix(unetPrefix) {
                unetTensors[String(key.dropFirst(unetPrefix.count))] = try parameter(entry)
            } else if key.hasPrefix(vaePrefix) {
                vaeTensors[String(key.dropFirst(vaePrefix.count))] = try parameter(entry)
            } else if let prefix = clipPrefixes.first(where: { key.hasPrefix($0) }) {
                clipTensors[String(key.dropFirst(prefix.count))] = try parameter(
                    entry, roundToFloat16: roundCLIPToFloat16)
            } else if let prefix = OpenCLIPTextKeyMap.prefixes.first(where: { key.hasPrefix($0) }) {
                openCLIP = true
                let name = String(key.dropFirst(prefix.count))
                switch OpenCLIPTextKeyMap.target(name) {
                case .renamed(let hfName)?:
                    clipTensors[hfName] = try parameter(entry, roundToFloat16: roundCLIPToFloat16)
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
                        clipTensors[hfName] = try parameter(part, roundToFloat16: roundCLIPToFloat16)
                    }
                case .unused?:
                    break
                case nil:
                    clipTensors[key] = try parameter(entry)  // reported as unexpected below
                }
            }
        }
        guard !unetTensors.isEmpty else {
            throw ModelLoadError.unrecognized(
                file: path,
                reason:
                    "not an SD1.x-family checkpoint: no '\(unetPrefix)' keys (found e.g. \(file.keys.prefix(3).joined(separator: ", ")))"
            )
        }
        let unetStore = WeightStore(unetTensors, source: path + " (" + unetPrefix + "*)")
        let unet = UNet(unetStore.root, config: try UNetConfiguration.detect(unetStore.root))
        try unetStore.verify()

        let vaeStore = WeightStore(vaeTensors, source: path + " (" + vaePrefix + "*)")
        let vae = AutoencoderKL(vaeStore.root, config: try VAEConfiguration.detect(vaeStore.root))
        try vaeStore.verify()

        var textModel: CLIPTextModel?
        if !clipTensors.isEmpty {
            let clipStore = WeightStore(
                clipTensors,
                source: path + (openCLIP ? " (cond_stage_model.model.*)" : " (cond_stage_model.transformer.*)"))
            let scope = clipStore.root
            var config = try CLIPTextConfiguration.detect(scope)
            if openCLIP { config.useOpenCLIPConventions() }
            textModel = CLIPTextModel(scope, config: config)
            try clipStore.verify(ignoring: {
                $0.hasSuffix("position_ids") || $0.hasPrefix("text_projection") || $0 == "logit_scale"
            })
        }
        var models = StableDiffusionModels(
            unet: unet, vae: vae, textModel: textModel, source: path,
            unetBytes: unetTensors.residentBytes, vaeBytes: vaeTensors.residentBytes,
            textBytes: clipTensors.residentBytes,
            unetWeights: unetTensors, textWeights: clipTensors, textWeightsAreFloat16: roundCLIPToFloat16,
            prediction: .guess(unet.config, weights: unetTensors))
        models.nonFiniteTensors = nonFinite.sorted()
        return models
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
