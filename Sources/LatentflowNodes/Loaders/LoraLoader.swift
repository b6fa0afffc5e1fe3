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
    static let strengthModel = Input.float(
        "strength_model", default: 1.0, min: -100, max: 100, step: 0.01,
        tooltip: "How strongly to modify the diffusion model. This value can be negative.")
    static let strengthClip = Input.float(
        "strength_clip", default: 1.0, min: -100, max: 100, step: 0.01,
        tooltip: "How strongly to modify the CLIP model. This value can be negative.")

    public static let schema = NodeSchema(
        "LoraLoader", displayName: "Load LoRA", category: "loaders",
        description:
            "LoRAs are used to modify diffusion and CLIP models, altering the way in which latents are denoised such as applying styles. Multiple LoRA nodes can be linked together.",
        inputs: [model, clip, loraName, strengthModel, strengthClip],
        outputs: outputs(
            Output<DiffusionModel>("MODEL", tooltip: "The modified diffusion model."),
            Output<TextEncoder>("CLIP", tooltip: "The modified CLIP model.")))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let (model, clip) = try LoRANodeAdapter.apply(
            name: try inputs[Self.loraName], model: try inputs[Self.model], clip: try inputs[Self.clip],
            strengthModel: try inputs[Self.strengthModel], strengthClip: try inputs[Self.strengthClip], context: context
        )
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
        description:
            "LoRAs are used to modify diffusion models, altering the way in which latents are denoised such as applying styles.",
        inputs: [model, loraName, strengthModel], outputs: outputs(Output<DiffusionModel>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let (model, _) = try LoRANodeAdapter.apply(
            name: try inputs[Self.loraName], model: try inputs[Self.model], clip: nil,
            strengthModel: try inputs[Self.strengthModel], strengthClip: 0, context: context)
        return NodeOutputs(model)
    }

    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        fileFingerprint(constants[loraName], folder: "loras", environment: environment)
    }
}

/// The nodes' side of `LoRAApplication`: finds the file, turns the unmatched-key report into a
/// warning and errors into NodeErrors.
enum LoRANodeAdapter {
    static func apply(
        name: String, model: DiffusionModel, clip: TextEncoder?, strengthModel: Double, strengthClip: Double,
        context: ExecutionContext
    ) throws -> (DiffusionModel, TextEncoder?) {
        if strengthModel == 0 && strengthClip == 0 { return (model, clip) }
        let url = try context.environment.files.locate(name, in: "loras")
        let lora = try LoRAFile(path: url.path)
        let text = clip.map {
            PatchableTextModel(model: $0.model, weights: $0.weights, weightsAreFloat16: $0.weightsAreFloat16)
        }
        let (unet, patchedText): (PatchableUNet, PatchableTextModel?)
        do {
            (unet, patchedText) = try LoRAApplication.apply(
                lora, unet: PatchableUNet(unet: model.unet, weights: model.weights), unetStrength: strengthModel,
                text: text, textStrength: strengthClip
            ) { unmatched in
                context.warn(
                    "\(url.lastPathComponent): \(unmatched.count) LoRA key(s) matched no weight "
                        + "and were not loaded: " + unmatched.prefix(8).joined(separator: ", ")
                        + (unmatched.count > 8 ? ", …" : ""))
            }
        } catch LoRAApplicationError.unetHasNoWeights {
            throw NodeError("this MODEL carries no weights to patch")
        } catch let error as LoRAApplicationError {
            throw NodeError(error.description)
        }
        var newModel = model, newClip = clip
        (newModel.unet, newModel.weights) = (unet.unet, unet.weights)
        if let patchedText {
            newClip?.model = patchedText.model
            newClip?.weights = patchedText.weights
        }
        return (newModel, newClip)
    }
}
