import LatentflowGraph

/// Gives every hook of a group the same keyframes (none: the hooks keep theirs).
public struct SetHookKeyframes: Node {
    static let hooks = Input<Hooks>("hooks")
    static let keyframes = Input<HookKeyframes>("hook_kf", optional: true)

    public static let schema = NodeSchema(
        "SetHookKeyframes", displayName: "Set Hook Keyframes", category: "advanced/hooks/scheduling",
        inputs: [hooks, keyframes], outputs: outputs(Output<Hooks>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let hooks = try inputs[Self.hooks]
        guard let keyframes = try inputs.optional(Self.keyframes) else { return NodeOutputs(hooks) }
        return NodeOutputs(hooks.settingKeyframes(keyframes))
    }
}

/// Adds one keyframe: from `start_percent` on, the hooks' strength is multiplied by `strength_mult`.
public struct CreateHookKeyframe: Node {
    static let strength = Input.float("strength_mult", default: 1.0, min: -20.0, max: 20.0, step: 0.01)
    static let startPercent = Input.float("start_percent", default: 0.0, min: 0.0, max: 1.0, step: 0.001)
    static let previous = Input<HookKeyframes>("prev_hook_kf", optional: true)

    public static let schema = NodeSchema(
        "CreateHookKeyframe", displayName: "Create Hook Keyframe", category: "advanced/hooks/scheduling",
        inputs: [strength, startPercent, previous], outputs: outputs(Output<HookKeyframes>("HOOK_KF")))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var keyframes = try inputs.optional(Self.previous) ?? HookKeyframes()
        keyframes.add(HookKeyframe(strength: try inputs[Self.strength], startPercent: try inputs[Self.startPercent]))
        return NodeOutputs(keyframes)
    }
}

/// Adds `keyframes_count` keyframes evenly spread from start to end percent, their strengths
/// along an interpolation curve; only the first is guaranteed a step.
public struct CreateHookKeyframesInterpolated: Node {
    static let strengthStart = Input.float("strength_start", default: 1.0, min: 0.0, max: 10.0, step: 0.001)
    static let strengthEnd = Input.float("strength_end", default: 1.0, min: 0.0, max: 10.0, step: 0.001)
    static let interpolation = Input.combo("interpolation", options: HookInterpolation.names)
    static let startPercent = Input.float("start_percent", default: 0.0, min: 0.0, max: 1.0, step: 0.001)
    static let endPercent = Input.float("end_percent", default: 1.0, min: 0.0, max: 1.0, step: 0.001)
    static let count = Input.int("keyframes_count", default: 5, min: 2, max: 100, step: 1)
    static let printKeyframes = Input.boolean("print_keyframes", default: false)
    static let previous = Input<HookKeyframes>("prev_hook_kf", optional: true)

    public static let schema = NodeSchema(
        "CreateHookKeyframesInterpolated", displayName: "Create Hook Keyframes Interp.",
        category: "advanced/hooks/scheduling",
        inputs: [strengthStart, strengthEnd, interpolation, startPercent, endPercent, count, printKeyframes, previous],
        outputs: outputs(Output<HookKeyframes>("HOOK_KF")))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        guard let method = HookInterpolation(rawValue: try inputs[Self.interpolation]) else {
            throw NodeError("input 'interpolation': unknown method '\(try inputs[Self.interpolation])'")
        }
        let count = try inputs[Self.count]
        guard count >= 2 else { throw NodeError("input 'keyframes_count' must be at least 2, got \(count)") }
        let percents = HookInterpolation.linear.weights(
            from: try inputs[Self.startPercent], to: try inputs[Self.endPercent], count: count)
        let strengths = method.weights(
            from: try inputs[Self.strengthStart], to: try inputs[Self.strengthEnd], count: count)
        return NodeOutputs(
            try spreadKeyframes(
                strengths: strengths.map(Double.init), percents: percents, onto: inputs.optional(Self.previous),
                print: try inputs[Self.printKeyframes], context: context))
    }
}

/// Adds one keyframe per float of a FLOATS input, evenly spread from start to end percent.
public struct CreateHookKeyframesFromFloats: Node {
    static let floats: Input<FloatList> = {
        var input = Input<FloatList>("floats_strength")
        input.spec.defaultValue = .int(-1)
        (input.spec.min, input.spec.step, input.spec.forceInput) = (-1, 0.001, true)
        return input
    }()
    static let startPercent = Input.float("start_percent", default: 0.0, min: 0.0, max: 1.0, step: 0.001)
    static let endPercent = Input.float("end_percent", default: 1.0, min: 0.0, max: 1.0, step: 0.001)
    static let printKeyframes = Input.boolean("print_keyframes", default: false)
    static let previous = Input<HookKeyframes>("prev_hook_kf", optional: true)

    public static let schema = NodeSchema(
        "CreateHookKeyframesFromFloats", displayName: "Create Hook Keyframes From Floats",
        category: "advanced/hooks/scheduling",
        inputs: [floats, startPercent, endPercent, printKeyframes, previous],
        outputs: outputs(Output<HookKeyframes>("HOOK_KF")))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let strengths = try inputs[Self.floats].values
        let percents = HookInterpolation.linear.weights(
            from: try inputs[Self.startPercent], to: try inputs[Self.endPercent], count: strengths.count)
        return NodeOutputs(
            try spreadKeyframes(
                strengths: strengths, percents: percents, onto: inputs.optional(Self.previous),
                print: try inputs[Self.printKeyframes], context: context))
    }
}

/// Keyframes pairing strengths with percents (the shorter list decides how many), added to
/// `previous`; the first is guaranteed one step, the others none.
func spreadKeyframes(
    strengths: [Double], percents: [Float], onto previous: HookKeyframes?, print: Bool, context: ExecutionContext
) -> HookKeyframes {
    var keyframes = previous ?? HookKeyframes()
    for (index, (percent, strength)) in zip(percents, strengths).enumerated() {
        keyframes.add(
            HookKeyframe(strength: strength, startPercent: Double(percent), guaranteeSteps: index == 0 ? 1 : 0))
        if print { context.warn("Hook Keyframe - start_percent:\(percent) = \(strength)") }
    }
    return keyframes
}
