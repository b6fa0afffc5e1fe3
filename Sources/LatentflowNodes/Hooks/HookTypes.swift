import LatentflowGraph
import LatentflowModels

/// One point of a hook's strength schedule: from `startPercent` of sampling on, the hook's
/// strengths are multiplied by `strength`, for at least `guaranteeSteps` steps once reached.
///
/// Matches: ComfyUI `comfy/hooks.py` `HookKeyframe`.
public struct HookKeyframe: Sendable, Equatable {
    public var strength: Double
    public var startPercent: Double
    public var guaranteeSteps: Int

    public init(strength: Double, startPercent: Double = 0, guaranteeSteps: Int = 1) {
        (self.strength, self.startPercent, self.guaranteeSteps) = (strength, startPercent, guaranteeSteps)
    }
}

/// ComfyUI's HOOK_KEYFRAMES: keyframes ordered by start percent, those with equal start
/// percents in the order they were added (`HookKeyframeGroup.add`, `get_sorted_list_via_attr`).
public struct HookKeyframes: PortValue {
    public static var portType: PortType { "HOOK_KEYFRAMES" }
    public private(set) var keyframes: [HookKeyframe] = []

    public init(_ keyframes: [HookKeyframe] = []) {
        for keyframe in keyframes { add(keyframe) }
    }

    /// Adds a keyframe after every keyframe starting at or before it (a stable sort).
    public mutating func add(_ keyframe: HookKeyframe) {
        let index = keyframes.firstIndex { $0.startPercent > keyframe.startPercent } ?? keyframes.count
        keyframes.insert(keyframe, at: index)
    }
}

/// Where a hook's model's weights come from.
public enum HookWeights: Sendable {
    /// A LoRA file's patches (CreateHookLora), keyed as the file keys them.
    case lora(LoRAFile)
    /// A checkpoint's weights as a patch (CreateHookModelAsLora, ComfyUI's `model_as_lora`):
    /// `weight += strength · (checkpoint weight − base weight)`; `unet` in LDM keys without
    /// `model.diffusion_model.`, `clip` in the text encoder's keys.
    case modelAsLoRA(name: String, unet: [String: Parameter], clip: [String: Parameter]?)
}

/// The identity ComfyUI's hook clones share (`_HookRef`): a hook is the same hook whatever
/// keyframes a clone of it was given later.
public final class HookReference: Sendable {
    public init() {}
}

/// A weight hook (ComfyUI's `WeightHook`): patches the UNet (and the text encoder, by
/// SetClipHooks) of the conditioning entries carrying it, times its keyframe strength.
public struct Hook: Sendable {
    public let reference: HookReference
    public var weights: HookWeights
    public var strengthModel: Double
    public var strengthClip: Double
    public var keyframes = HookKeyframes()

    public init(weights: HookWeights, strengthModel: Double, strengthClip: Double) {
        reference = HookReference()
        (self.weights, self.strengthModel, self.strengthClip) = (weights, strengthModel, strengthClip)
    }

    public func isSameHook(as other: Hook) -> Bool { reference === other.reference }
}

/// ComfyUI's HOOKS (`HookGroup`): hooks without duplicates (by identity), in the order added.
/// Empty stands in for ComfyUI's None too: every consumer treats both alike.
public struct Hooks: PortValue {
    public static var portType: PortType { "HOOKS" }
    public private(set) var hooks: [Hook] = []

    public init(_ hooks: [Hook] = []) {
        for hook in hooks { add(hook) }
    }

    public var isEmpty: Bool { hooks.isEmpty }

    public func contains(_ hook: Hook) -> Bool { hooks.contains { $0.isSameHook(as: hook) } }

    /// Adds a hook unless it is already here (`HookGroup.add`).
    public mutating func add(_ hook: Hook) {
        if !contains(hook) { hooks.append(hook) }
    }

    /// These hooks, then those of `other` not here yet (`clone_and_combine`).
    public func combined(with other: Hooks?) -> Hooks {
        var result = self
        for hook in other?.hooks ?? [] { result.add(hook) }
        return result
    }

    /// Every hook given the same keyframes; nil clears them (`set_keyframes_on_hooks`).
    public func settingKeyframes(_ keyframes: HookKeyframes?) -> Hooks {
        var result = self
        for index in result.hooks.indices { result.hooks[index].keyframes = keyframes ?? HookKeyframes() }
        return result
    }

    /// The given groups, combined in order (`HookGroup.combine_all_hooks`).
    public static func combineAll(_ groups: [Hooks?]) -> Hooks {
        groups.compactMap { $0 }.reduce(Hooks()) { $0.combined(with: $1) }
    }
}

/// ComfyUI's TIMESTEPS_RANGE: a part of sampling as fractions of the schedule.
public struct TimestepsRange: PortValue {
    public static var portType: PortType { "TIMESTEPS_RANGE" }
    public var start: Double
    public var end: Double

    public init(start: Double, end: Double) { (self.start, self.end) = (start, end) }
}

/// ComfyUI's FLOATS: a list of floats (custom nodes make them; a single FLOAT counts as one).
public struct FloatList: PortValue {
    public static var portType: PortType { "FLOATS" }
    public var values: [Double]

    public init(_ values: [Double]) { self.values = values }
}

extension Conditioning.Entry {
    /// The part of sampling the entry applies to: a CLIP-scheduled entry's span within its
    /// timestep range (ComfyUI `calculate_start_end_timesteps`).
    var sampledStartPercent: Double? { clipStartPercent.map { max($0, startPercent ?? 0) } ?? startPercent }
    var sampledEndPercent: Double? { clipEndPercent.map { min($0, endPercent ?? 1) } ?? endPercent }
}
