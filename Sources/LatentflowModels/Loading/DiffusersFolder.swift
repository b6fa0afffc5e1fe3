import Foundation
import LatentflowIO
import LatentflowTensor

/// Diffusers pipeline folders: `unet/`, `vae/`, `text_encoder/`, each with a `config.json` and
/// `diffusion_pytorch_model[.fp16].safetensors` / `model[.fp16].safetensors` (or the pickled
/// `diffusion_pytorch_model[.fp16].bin` / `pytorch_model[.fp16].bin` of older exports),
/// converted to the canonical LDM keys through `DiffusersUNetKeyMap` and `DiffusersVAEKeyMap`;
/// a `vae/` holding an AutoencoderTiny (SDXS) loads as TAESD (`StandaloneVAE.autoencoder`).
public enum DiffusersFolder {
    /// The parts of diffusers' `UNet2DConditionModel` config that shape an SD-family UNet.
    struct UNetConfig: Decodable {
        var in_channels: Int = 4
        var out_channels: Int = 4
        var block_out_channels: [Int] = [320, 640, 1280, 1280]
        var layers_per_block: OneOrList<Int> = .one(2)
        var down_block_types: [String] = []
        var cross_attention_dim: Int = 768
        var attention_head_dim: OneOrList<Int>?
        var use_linear_projection: Bool? = false
        var time_cond_proj_dim: Int?
        /// SDXS-512-0.9's `[true, false, false]`: those levels' attn1 attends to the text.
        var only_cross_attention: OneOrList<Bool>?
    }

    /// A config value diffusers writes either once for every level or as a list per level.
    enum OneOrList<Element: Decodable>: Decodable {
        case one(Element), list([Element])
        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(Element.self) {
                self = .one(value)
            } else {
                self = .list(try container.decode([Element].self))
            }
        }

        func levels(_ count: Int) -> [Element] {
            switch self {
            case .one(let value): return Array(repeating: value, count: count)
            case .list(let values): return values
            }
        }
    }

    /// Safetensors first, as diffusers prefers them when a folder holds both.
    static let unetOrVAEWeightNames = [
        "diffusion_pytorch_model.safetensors",
        "diffusion_pytorch_model.fp16.safetensors",
        "diffusion_pytorch_model.bin", "diffusion_pytorch_model.fp16.bin",
    ]
    static let textEncoderWeightNames = [
        "model.safetensors", "model.fp16.safetensors",
        "pytorch_model.bin", "pytorch_model.fp16.bin",
    ]

    static func weights(_ folder: URL, names: [String]) throws -> (path: String, tensors: [String: Tensor]) {
        for name in names {
            let url = folder.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            let file = try openModelFile(path: url.path)
            var tensors: [String: Tensor] = [:]
            for key in file.keys { tensors[key] = try file.tensor(key) }
            return (url.path, tensors)
        }
        throw ModelLoadError.unrecognized(file: folder.path, reason: "none of \(names.joined(separator: ", ")) found")
    }

    public static func load(_ folder: URL, roundCLIPToFloat16: Bool = true) throws -> StableDiffusionModels {
        let (unet, unetTensors) = try loadUNet(folder.appendingPathComponent("unet"))
        return try loadRest(folder, unet: unet, unetTensors: unetTensors, roundCLIPToFloat16: roundCLIPToFloat16)
    }

    /// A diffusers `unet/` folder: config.json shapes it; keys go through the diffusers→LDM table.
    public static func loadUNet(_ unetFolder: URL) throws -> (UNet, weights: [String: Tensor]) {
        let configData: Data
        do { configData = try Data(contentsOf: unetFolder.appendingPathComponent("config.json")) } catch {
            throw ModelLoadError.unrecognized(file: unetFolder.path, reason: "missing unet/config.json")
        }
        let raw = try JSONDecoder().decode(UNetConfig.self, from: configData)
        var config = UNetConfiguration()
        config.inChannels = raw.in_channels
        config.outChannels = raw.out_channels
        guard let base = raw.block_out_channels.first, base > 0,
            raw.block_out_channels.allSatisfy({ $0 > 0 && $0 % base == 0 })
        else {
            throw ModelLoadError.unrecognized(
                file: unetFolder.appendingPathComponent("config.json").path,
                reason: "block_out_channels \(raw.block_out_channels) are not positive multiples of the first")
        }
        config.modelChannels = base
        config.channelMultipliers = raw.block_out_channels.map { $0 / base }
        switch raw.layers_per_block {
        case .one(let count): config.resBlocksPerLevel = count
        case .list(let counts): (config.resBlocksPerLevel, config.resBlocksByLevel) = (counts.first ?? 2, counts)
        }
        config.attentionLevels = raw.down_block_types.map { $0.contains("CrossAttn") }
        config.contextDim = raw.cross_attention_dim
        config.linearProjection = raw.use_linear_projection ?? false
        config.guidanceEmbeddingDim = raw.time_cond_proj_dim
        config.selfAttentionDisabledLevels = raw.only_cross_attention?.levels(raw.block_out_channels.count) ?? []
        if case .one(let heads)? = raw.attention_head_dim, config.contextDim == 768 || config.contextDim < 256 {
            config.heads = heads  // SD1.x: "attention_head_dim" is the number of heads
        } else {
            config.heads = nil
            config.headWidth = 64
        }
        let (unetPath, diffusersTensors) = try weights(unetFolder, names: unetOrVAEWeightNames)
        // Block counts per level and the middle block as the weights have them (SDXS's config gives
        // `mid_block_type` null; `layers_per_block` may be a list).
        let structure = try DiffusersUNetFingerprint(shapes: diffusersTensors.mapValues(\.shape), source: unetPath)
        if structure.resBlocks.count == config.channelMultipliers.count {
            config.resBlocksPerLevel = structure.keyLayout.resBlocksPerLevel
            config.resBlocksByLevel = structure.keyLayout.resBlocksByLevel
            config.middleBlock = structure.middleBlock
        }
        let map = DiffusersUNetKeyMap.modules(config)
        var unetTensors: [String: Tensor] = [:]
        var unknown: [String] = []
        for (key, tensor) in diffusersTensors {
            if let ldm = DiffusersUNetKeyMap.ldmName(key, in: map) {
                unetTensors[ldm] = tensor
            } else {
                unknown.append(key)
            }
        }
        if !unknown.isEmpty {
            throw ModelLoadError.keys(file: unetPath, missing: [], unexpected: unknown.sorted(), mismatched: [])
        }
        let unetStore = WeightStore(unetTensors, source: unetPath)
        let unet = UNet(unetStore.root, config: config)
        try unetStore.verify()
        return (unet, unetTensors)
    }

    static func loadRest(_ folder: URL, unet: UNet, unetTensors: [String: Tensor], roundCLIPToFloat16: Bool) throws
        -> StableDiffusionModels
    {
        let (vaePath, vaeRaw) = try weights(folder.appendingPathComponent("vae"), names: unetOrVAEWeightNames)
        let (vae, vaeWeights) = try StandaloneVAE.autoencoder(vaeRaw, source: vaePath)

        var textModel: CLIPTextModel?
        var textTensors: [String: Tensor] = [:]
        if FileManager.default.fileExists(atPath: folder.appendingPathComponent("text_encoder").path) {
            let (textPath, raw) = try weights(
                folder.appendingPathComponent("text_encoder"), names: textEncoderWeightNames)
            for (key, tensor) in raw {
                let stripped = key.hasPrefix("text_model.") ? String(key.dropFirst("text_model.".count)) : key
                textTensors[stripped] =
                    roundCLIPToFloat16 ? try Tensor(shape: tensor.shape, float16Bits: tensor.float16Bits) : tensor
            }
            let store = WeightStore(textTensors, source: textPath)
            var config = try CLIPTextConfiguration.detect(store.root)
            // SD2.x folders hold OpenCLIP ViT-H converted by diffusers, its last layer already dropped.
            if try textEncoderActivation(folder.appendingPathComponent("text_encoder")) == .gelu {
                config.useOpenCLIPConventions(penultimateByDefault: false)
            }
            textModel = CLIPTextModel(store.root, config: config)
            try store.verify(ignoring: {
                $0.hasSuffix("position_ids") || $0.hasPrefix("text_projection") || $0 == "logit_scale"
            })
        }
        func bytes(_ tensors: [String: Tensor]) -> Int { tensors.values.reduce(0) { $0 + $1.count * 4 } }
        let unetWeights = unetTensors.mapValues { Parameter($0) }
        var models = StableDiffusionModels(
            unet: unet, vae: vae, textModel: textModel, source: folder.path,
            unetBytes: bytes(unetTensors), vaeBytes: bytes(vaeRaw), textBytes: bytes(textTensors),
            unetWeights: unetWeights, textWeights: textTensors.mapValues { Parameter($0) },
            textWeightsAreFloat16: roundCLIPToFloat16,
            prediction: .guess(unet.config, weights: unetWeights))
        models.vaeWeights = vaeWeights
        models.nonFiniteTensors = [("unet: ", unetTensors), ("vae: ", vaeRaw), ("text_encoder: ", textTensors)]
            .flatMap { part, tensors in tensors.filter { $0.value.hasNonFiniteValues }.keys.map { part + $0 } }.sorted()
        return models
    }

    /// `hidden_act` of `text_encoder/config.json` (quick-GELU when absent, as transformers' default).
    static func textEncoderActivation(_ folder: URL) throws -> CLIPActivation {
        struct Config: Decodable { var hidden_act: String? }
        guard let data = try? Data(contentsOf: folder.appendingPathComponent("config.json")) else { return .quickGELU }
        let name = try JSONDecoder().decode(Config.self, from: data).hidden_act ?? "quick_gelu"
        guard let activation = CLIPActivation(rawValue: name) else {
            throw ModelLoadError.unrecognized(
                file: folder.appendingPathComponent("config.json").path,
                reason: "hidden_act \"\(name)\" is not a CLIP text activation (quick_gelu, gelu)")
        }
        return activation
    }
}
