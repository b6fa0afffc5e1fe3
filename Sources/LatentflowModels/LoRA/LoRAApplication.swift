import Foundation

/// A UNet with the LDM-keyed weights it was built from: what a LoRA patches.
public struct PatchableUNet: Sendable {
    public var unet: UNet
    public var weights: [String: Parameter]

    public init(unet: UNet, weights: [String: Parameter]) { (self.unet, self.weights) = (unet, weights) }
}

/// A CLIP text model with the weights it was built from (HF keys without `text_model.`).
public struct PatchableTextModel: Sendable {
    public var model: CLIPTextModel
    public var weights: [String: Parameter]
    /// Patched weights are rounded back to float16, as ComfyUI casts to the weight's dtype.
    public var weightsAreFloat16: Bool

    public init(model: CLIPTextModel, weights: [String: Parameter], weightsAreFloat16: Bool) {
        (self.model, self.weights, self.weightsAreFloat16) = (model, weights, weightsAreFloat16)
    }
}

public enum LoRAApplicationError: Error, CustomStringConvertible {
    /// A UNet strength was given for a UNet built without keeping its weights.
    case unetHasNoWeights
    /// Not one patch found a weight: the LoRA is most likely for another architecture.
    case fitsNothing(file: String, patches: Int)

    public var description: String {
        switch self {
        case .unetHasNoWeights: "this UNet carries no weights to patch"
        case let .fitsNothing(file, patches):
            "\(file): none of its \(patches) patches fits this model (is it for another architecture?)"
        }
    }
}

/// Patches a UNet and its text encoder with a LoRA file and rebuilds both from the patched
/// weights (ComfyUI's `load_lora_for_models`). The base weights stay untouched, so chained and
/// changed LoRAs never reload the checkpoint.
public enum LoRAApplication {
    /// - Parameters:
    ///   - unetStrength, textStrength: 0 leaves that model as it is.
    ///   - unmatched: told the LoRA keys no model took and the keys of no recognised format
    ///     (reported, never silently dropped), before the file is refused as fitting nothing.
    public static func apply(
        _ lora: LoRAFile, unet: PatchableUNet, unetStrength: Double,
        text: PatchableTextModel?, textStrength: Double,
        unmatched report: ([String]) -> Void
    ) throws -> (PatchableUNet, PatchableTextModel?) {
        var patchedUNet = unet, patchedText = text
        let unetKeyMap = LoRAKeyMap.unet(Array(unet.weights.keys), config: unet.unet.config)
        // A key counts as matched when either model's key map takes it, whatever the strengths
        // (ComfyUI's load_lora_for_models builds one key map over both models).
        var unmatchedPatches = Set(LoRAPatcher.unmatched(lora, in: unet.weights, keyMap: unetKeyMap))
        if unetStrength != 0 {
            guard !unet.weights.isEmpty else { throw LoRAApplicationError.unetHasNoWeights }
            let result = try LoRAPatcher.apply(lora, to: unet.weights, keyMap: unetKeyMap, strength: unetStrength)
            patchedUNet.weights = result.weights
            patchedUNet.unet = UNet(WeightStore(result.weights, source: lora.path).root, config: unet.unet.config)
        }
        if let text {
            let config = text.model.config
            let keyMap = LoRAKeyMap.clip(layers: config.layers)
            unmatchedPatches.formIntersection(LoRAPatcher.unmatched(lora, in: text.weights, keyMap: keyMap))
            if textStrength != 0 {
                let result = try LoRAPatcher.apply(
                    lora, to: text.weights, keyMap: keyMap, strength: textStrength,
                    float16Weights: text.weightsAreFloat16)
                patchedText?.weights = result.weights
                patchedText?.model = CLIPTextModel(WeightStore(result.weights, source: lora.path).root, config: config)
            }
        }
        let unmatched = unmatchedPatches.sorted() + lora.unrecognizedKeys
        if !unmatched.isEmpty { report(unmatched) }
        if lora.patches.count > 0 && unmatched.count >= lora.patches.count + lora.unrecognizedKeys.count {
            throw LoRAApplicationError.fitsNothing(
                file: URL(fileURLWithPath: lora.path).lastPathComponent,
                patches: lora.patches.count)
        }
        return (patchedUNet, patchedText)
    }
}
