import Foundation
import LatentflowGraph
import LatentflowModels

/// A LoRA from `models/loras` as a hook: it patches the UNet only for the conditioning entries
/// the hook is set on (ConditioningSetProperties and its variants), and the text encoder through
/// SetClipHooks.
public struct CreateHookLora: Node {
    static let loraName = Input.files("lora_name", folder: "loras")
    static let strengthModel = Input.float("strength_model", default: 1.0, min: -20.0, max: 20.0, step: 0.01)
    static let strengthClip = Input.float("strength_clip", default: 1.0, min: -20.0, max: 20.0, step: 0.01)
    static let previous = Input<Hooks>("prev_hooks", optional: true)

    public static let schema = NodeSchema(
        "CreateHookLora", displayName: "Create Hook LoRA", category: "advanced/hooks/create",
        inputs: [loraName, strengthModel, strengthClip, previous], outputs: outputs(Output<Hooks>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(
            try HookCreation.lora(
                name: try inputs[Self.loraName], strengthModel: try inputs[Self.strengthModel],
                strengthClip: try inputs[Self.strengthClip], previous: try inputs.optional(Self.previous),
                context: context))
    }

    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        fileFingerprint(constants[loraName], folder: "loras", environment: environment)
    }
}

/// CreateHookLora for the UNet alone.
public struct CreateHookLoraModelOnly: Node {
    static let loraName = Input.files("lora_name", folder: "loras")
    static let strengthModel = Input.float("strength_model", default: 1.0, min: -20.0, max: 20.0, step: 0.01)
    static let previous = Input<Hooks>("prev_hooks", optional: true)

    public static let schema = NodeSchema(
        "CreateHookLoraModelOnly", displayName: "Create Hook LoRA (MO)", category: "advanced/hooks/create",
        inputs: [loraName, strengthModel, previous], outputs: outputs(Output<Hooks>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(
            try HookCreation.lora(
                name: try inputs[Self.loraName], strengthModel: try inputs[Self.strengthModel], strengthClip: 0,
                previous: try inputs.optional(Self.previous), context: context))
    }

    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        fileFingerprint(constants[loraName], folder: "loras", environment: environment)
    }
}

/// A checkpoint's weights as a hook: where it applies, weights move by strength × (checkpoint −
/// the MODEL's weights).
public struct CreateHookModelAsLora: Node {
    static let checkpoint = Input.files("ckpt_name", folder: "checkpoints")
    static let strengthModel = Input.float("strength_model", default: 1.0, min: -20.0, max: 20.0, step: 0.01)
    static let strengthClip = Input.float("strength_clip", default: 1.0, min: -20.0, max: 20.0, step: 0.01)
    static let previous = Input<Hooks>("prev_hooks", optional: true)

    public static let schema = NodeSchema(
        "CreateHookModelAsLora", displayName: "Create Hook Model as LoRA", category: "advanced/hooks/create",
        inputs: [checkpoint, strengthModel, strengthClip, previous], outputs: outputs(Output<Hooks>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(
            try HookCreation.modelAsLoRA(
                name: try inputs[Self.checkpoint], strengthModel: try inputs[Self.strengthModel],
                strengthClip: try inputs[Self.strengthClip], previous: try inputs.optional(Self.previous),
                context: context))
    }

    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        fileFingerprint(constants[checkpoint], folder: "checkpoints", environment: environment)
    }
}

/// CreateHookModelAsLora for the UNet alone.
public struct CreateHookModelAsLoraModelOnly: Node {
    static let checkpoint = Input.files("ckpt_name", folder: "checkpoints")
    static let strengthModel = Input.float("strength_model", default: 1.0, min: -20.0, max: 20.0, step: 0.01)
    static let previous = Input<Hooks>("prev_hooks", optional: true)

    public static let schema = NodeSchema(
        "CreateHookModelAsLoraModelOnly", displayName: "Create Hook Model as LoRA (MO)",
        category: "advanced/hooks/create", inputs: [checkpoint, strengthModel, previous],
        outputs: outputs(Output<Hooks>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(
            try HookCreation.modelAsLoRA(
                name: try inputs[Self.checkpoint], strengthModel: try inputs[Self.strengthModel], strengthClip: 0,
                previous: try inputs.optional(Self.previous), context: context))
    }

    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        fileFingerprint(constants[checkpoint], folder: "checkpoints", environment: environment)
    }
}

/// The hook-creating nodes' shared work: load the file, make the hook, add it after `previous`.
enum HookCreation {
    static func lora(
        name: String, strengthModel: Double, strengthClip: Double, previous: Hooks?, context: ExecutionContext
    ) throws -> Hooks {
        let previous = previous ?? Hooks()
        // Both strengths 0: no hook at all (ComfyUI returns prev_hooks as they are).
        if strengthModel == 0 && strengthClip == 0 { return previous }
        let url = try context.environment.files.locate(name, in: "loras")
        let lora = try LoRAFile(path: url.path)
        return previous.combined(
            with: Hooks([Hook(weights: .lora(lora), strengthModel: strengthModel, strengthClip: strengthClip)]))
    }

    static func modelAsLoRA(
        name: String, strengthModel: Double, strengthClip: Double, previous: Hooks?, context: ExecutionContext
    ) throws -> Hooks {
        let url = try context.environment.files.locate(name, in: "checkpoints")
        let models = try StableDiffusionCheckpoint.load(path: url.path)
        let weights = HookWeights.modelAsLoRA(
            name: url.lastPathComponent, unet: models.unetWeights,
            clip: models.textWeights.isEmpty ? nil : models.textWeights)
        return (previous ?? Hooks()).combined(
            with: Hooks([Hook(weights: weights, strengthModel: strengthModel, strengthClip: strengthClip)]))
    }
}
