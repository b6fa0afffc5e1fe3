import Foundation
import LatentflowGraph
import LatentflowModels
import LatentflowTensor

/// Patches a model (and its text encoder) with a LoRA from `models/loras`: kohya, diffusers/PEFT,
/// LCM-LoRA, LoCon, LoHa and LoKr. The base weights stay untouched, so chained and changed LoRAs
/// never reload the checkpoint.
public struct LoraLoader: Node {
    static let model = Input<DiffusionModel>("model", tooltip: "The diffusion model the LoRA will be applied to.")
    static let clip = Input<TextEncoder>("clip", tooltip: "The CLIP model the LoRA will be applied to.")
    static let loraName = Input.files("lora_name", folder: "loras", tooltip: "The name of the LoRA.")
    static let strengthModel = Input.float("strength_model", default: 1.0, min: -100, max: 100, step: 0.01,
                                           tooltip: "How strongly to modify the diffusion model. This value can be negative.")
    static let strengthClip = Input.float("strength_clip", default: 1.0, min: -100, max: 100, step: 0.01,
                                          tooltip: "How strongly to modify the CLIP model. This value can be negative.")

    public static let schema = NodeSchema(
        "LoraLoader", displayName: "Load LoRA", category: "loaders",
        description: "LoRAs are used to modify diffusion and CLIP models, altering the way in which latents are denoised such as applying styles. Multiple LoRA nodes can be linked together.",
        inputs: [model, clip, loraName, strengthModel, strengthClip],
        outputs: outputs(Output<DiffusionModel>("MODEL", tooltip: "The modified diffusion model."),
                         Output<TextEncoder>("CLIP", tooltip: "The modified CLIP model.")))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let (model, clip) = try LoRAApplication.apply(
            name: try inputs[Self.loraName], model: try inputs[Self.model], clip: try inputs[Self.clip],
            strengthModel: try inputs[Self.strengthModel], strengthClip: try inputs[Self.strengthClip], context: context)
        return NodeOutputs(model, clip!)
    }

    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        fileFingerprint(constants[loraName], folder: "loras", environment: environment)
    }
}

/// LoraLoader for the diffusion model alone.
public struct LoraLoaderModelOnly: Node {
    static let model = Input<DiffusionModel>("model")
    static let loraName = Input.files("lora_name", folder: "loras")
    static let strengthModel = Input.float("strength_model", default: 1.0, min: -100, max: 100, step: 0.01)

    public static let schema = NodeSchema(
        "LoraLoaderModelOnly", category: "loaders",
        description: "LoRAs are used to modify diffusion models, altering the way in which latents are denoised such as applying styles.",
        inputs: [model, loraName, strengthModel], outputs: outputs(Output<DiffusionModel>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let (model, _) = try LoRAApplication.apply(name: try inputs[Self.loraName], model: try inputs[Self.model], clip: nil,
                                                   strengthModel: try inputs[Self.strengthModel], strengthClip: 0, context: context)
        return NodeOutputs(model)
    }

    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        fileFingerprint(constants[loraName], folder: "loras", environment: environment)
    }
}

enum LoRAApplication {
    static func apply(name: String, model: DiffusionModel, clip: TextEncoder?, strengthModel: Double, strengthClip: Double,
                      context: ExecutionContext) throws -> (DiffusionModel, TextEncoder?) {
        if strengthModel == 0 && strengthClip == 0 { return (model, clip) }
        let url = try context.environment.files.locate(name, in: "loras")
        let lora = try LoRAFile(path: url.path)
        var newModel = model, newClip = clip
        var unmatchedModel = Set(lora.patches.keys), unmatchedClip = Set(lora.patches.keys)
        if strengthModel != 0 {
            guard !model.weights.isEmpty else { throw NodeError("this MODEL carries no weights to patch") }
            let keyMap = LoRAKeyMap.unet(Array(model.weights.keys), config: model.unet.config)
            let result = try LoRAPatcher.apply(lora, to: model.weights, keyMap: keyMap, strength: strengthModel)
            newModel.weights = result.weights
            let store = WeightStore(result.weights, source: url.path)
            newModel.unet = UNet(store.root, config: model.unet.config)
            unmatchedModel = Set(result.unmatched)
        }
        if let clip, strengthClip != 0 {
            let keyMap = LoRAKeyMap.clip(layers: clip.model.config.layers)
            let result = try LoRAPatcher.apply(lora, to: clip.weights, keyMap: keyMap, strength: strengthClip, float16Weights: clip.weightsAreFloat16)
            newClip?.weights = result.weights
            newClip?.model = CLIPTextModel(WeightStore(result.weights, source: url.path).root, config: clip.model.config)
            unmatchedClip = Set(result.unmatched)
        }
        // A key no model took is reported, never silently dropped.
        let unmatched = (strengthModel != 0 && strengthClip != 0 && clip != nil ? unmatchedModel.intersection(unmatchedClip)
                         : strengthModel != 0 ? unmatchedModel : unmatchedClip).sorted() + lora.unrecognizedKeys
        if !unmatched.isEmpty {
            context.warn("\(url.lastPathComponent): \(unmatched.count) LoRA key(s) matched no weight and were not loaded: "
                         + unmatched.prefix(8).joined(separator: ", ") + (unmatched.count > 8 ? ", …" : ""))
        }
        if lora.patches.count > 0 && unmatched.count >= lora.patches.count + lora.unrecognizedKeys.count {
            throw NodeError("\(url.lastPathComponent): none of its \(lora.patches.count) patches fits this model (is it for another architecture?)")
        }
        return (newModel, newClip)
    }
}
