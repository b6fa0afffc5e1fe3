import LatentflowGraph
import LatentflowTensor

/// The properties ConditioningSetProperties and its variants give each entry of the new
/// conditionings: hooks added to the entry's, a mask with its strength (strength counts only
/// with a mask), a timestep range.
///
/// Matches: ComfyUI `comfy/hooks.py` `set_conds_props`, `set_hooks_for_conditioning`,
/// `set_mask_for_conditioning`, `set_timesteps_for_conditioning`.
struct ConditioningProperties {
    static let strength = Input.float("strength", default: 1.0, min: 0.0, max: 10.0, step: 0.01)
    static let setCondArea = Input.combo("set_cond_area", options: ["default", "mask bounds"])
    static let mask = Input<Mask>("mask", optional: true)
    static let hooks = Input<Hooks>("hooks", optional: true)
    static let timesteps = Input<TimestepsRange>("timesteps", optional: true)
    /// The inputs every variant ends with, in ComfyUI's order.
    static let inputs: [any InputDeclaration] = [strength, setCondArea, mask, hooks, timesteps]

    var hooks: Hooks?
    var mask: Tensor?
    var strength = 1.0
    var setAreaToBounds = false
    var timesteps: TimestepsRange?
    var isDefault = false

    init(hooks: Hooks? = nil, timesteps: TimestepsRange? = nil, isDefault: Bool = false) {
        (self.hooks, self.timesteps, self.isDefault) = (hooks, timesteps, isDefault)
    }

    init(_ inputs: NodeInputs) throws {
        hooks = try inputs.optional(Self.hooks)
        timesteps = try inputs.optional(Self.timesteps)
        strength = try inputs[Self.strength]
        setAreaToBounds = try inputs[Self.setCondArea] != "default"
        if var values = try inputs.optional(Self.mask)?.values {
            if values.rank < 3 { values = try values.reshaped([1] + values.shape) }
            mask = values
        }
    }

    func applied(to conditioning: Conditioning) -> Conditioning {
        conditioning.updatingEntries { entry in
            if let hooks { entry.hooks = entry.hooks.combined(with: hooks) }
            if let mask {
                entry.mask = mask
                entry.setAreaToBounds = setAreaToBounds
                entry.maskStrength = strength
            }
            if isDefault { entry.isDefault = true }
            if let timesteps { (entry.startPercent, entry.endPercent) = (timesteps.start, timesteps.end) }
        }
    }

    /// `conditioning`'s entries, then the new ones with these properties (`set_conds_props_and_combine`).
    func combining(_ conditioning: Conditioning, with new: Conditioning) -> Conditioning {
        Conditioning(conditioning.entries + applied(to: new).entries)
    }
}

/// A part of sampling, with the parts before and after it.
public struct ConditioningTimestepsRange: Node {
    static let start = Input.float("start_percent", default: 0.0, min: 0.0, max: 1.0, step: 0.001)
    static let end = Input.float("end_percent", default: 1.0, min: 0.0, max: 1.0, step: 0.001)

    public static let schema = NodeSchema(
        "ConditioningTimestepsRange", displayName: "Timesteps Range", category: "advanced/hooks",
        inputs: [start, end],
        outputs: outputs(
            Output<TimestepsRange>("TIMESTEPS_RANGE"), Output<TimestepsRange>("BEFORE_RANGE"),
            Output<TimestepsRange>("AFTER_RANGE")))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let (start, end) = (try inputs[Self.start], try inputs[Self.end])
        return NodeOutputs(
            TimestepsRange(start: start, end: end), TimestepsRange(start: 0, end: start),
            TimestepsRange(start: end, end: 1))
    }
}

/// Sets hooks, a mask and a timestep range on a conditioning.
public struct ConditioningSetProperties: Node {
    static let new = Input<Conditioning>("cond_NEW")

    public static let schema = NodeSchema(
        "ConditioningSetProperties", displayName: "Cond Set Props", category: "advanced/hooks/cond single",
        inputs: [new] + ConditioningProperties.inputs, outputs: outputs(Output<Conditioning>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(try ConditioningProperties(inputs).applied(to: try inputs[Self.new]))
    }
}

/// ConditioningSetProperties on `cond_NEW`, appended to `cond`.
public struct ConditioningSetPropertiesAndCombine: Node {
    static let conditioning = Input<Conditioning>("cond")
    static let new = Input<Conditioning>("cond_NEW")

    public static let schema = NodeSchema(
        "ConditioningSetPropertiesAndCombine", displayName: "Cond Set Props Combine",
        category: "advanced/hooks/cond single",
        inputs: [conditioning, new] + ConditioningProperties.inputs, outputs: outputs(Output<Conditioning>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(
            try ConditioningProperties(inputs).combining(try inputs[Self.conditioning], with: try inputs[Self.new]))
    }
}

/// ConditioningSetProperties on a positive and a negative conditioning.
public struct PairConditioningSetProperties: Node {
    static let positiveNew = Input<Conditioning>("positive_NEW")
    static let negativeNew = Input<Conditioning>("negative_NEW")

    public static let schema = NodeSchema(
        "PairConditioningSetProperties", displayName: "Cond Pair Set Props", category: "advanced/hooks/cond pair",
        inputs: [positiveNew, negativeNew] + ConditioningProperties.inputs,
        outputs: outputs(Output<Conditioning>("positive"), Output<Conditioning>("negative")))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let properties = try ConditioningProperties(inputs)
        return NodeOutputs(
            properties.applied(to: try inputs[Self.positiveNew]), properties.applied(to: try inputs[Self.negativeNew]))
    }
}

/// ConditioningSetPropertiesAndCombine on a positive and a negative conditioning.
public struct PairConditioningSetPropertiesAndCombine: Node {
    static let positive = Input<Conditioning>("positive")
    static let negative = Input<Conditioning>("negative")
    static let positiveNew = Input<Conditioning>("positive_NEW")
    static let negativeNew = Input<Conditioning>("negative_NEW")

    public static let schema = NodeSchema(
        "PairConditioningSetPropertiesAndCombine", displayName: "Cond Pair Set Props Combine",
        category: "advanced/hooks/cond pair",
        inputs: [positive, negative, positiveNew, negativeNew] + ConditioningProperties.inputs,
        outputs: outputs(Output<Conditioning>("positive"), Output<Conditioning>("negative")))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let properties = try ConditioningProperties(inputs)
        return NodeOutputs(
            properties.combining(try inputs[Self.positive], with: try inputs[Self.positiveNew]),
            properties.combining(try inputs[Self.negative], with: try inputs[Self.negativeNew]))
    }
}

/// Both pairs, as one pair of lists.
public struct PairConditioningCombine: Node {
    static let positiveA = Input<Conditioning>("positive_A")
    static let negativeA = Input<Conditioning>("negative_A")
    static let positiveB = Input<Conditioning>("positive_B")
    static let negativeB = Input<Conditioning>("negative_B")

    public static let schema = NodeSchema(
        "PairConditioningCombine", displayName: "Cond Pair Combine", category: "advanced/hooks/cond pair",
        inputs: [positiveA, negativeA, positiveB, negativeB],
        outputs: outputs(Output<Conditioning>("positive"), Output<Conditioning>("negative")))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let properties = ConditioningProperties()
        return NodeOutputs(
            properties.combining(try inputs[Self.positiveA], with: try inputs[Self.positiveB]),
            properties.combining(try inputs[Self.negativeA], with: try inputs[Self.negativeB]))
    }
}

/// Appends `cond_DEFAULT` as default entries: they fill in where the other entries leave weight.
public struct ConditioningSetDefaultCombine: Node {
    static let conditioning = Input<Conditioning>("cond")
    static let defaultConditioning = Input<Conditioning>("cond_DEFAULT")
    static let hooks = Input<Hooks>("hooks", optional: true)

    public static let schema = NodeSchema(
        "ConditioningSetDefaultCombine", displayName: "Cond Set Default Combine",
        category: "advanced/hooks/cond single",
        inputs: [conditioning, defaultConditioning, hooks], outputs: outputs(Output<Conditioning>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let properties = ConditioningProperties(hooks: try inputs.optional(Self.hooks), isDefault: true)
        return NodeOutputs(
            properties.combining(try inputs[Self.conditioning], with: try inputs[Self.defaultConditioning]))
    }
}

/// ConditioningSetDefaultCombine on a positive and a negative conditioning.
public struct PairConditioningSetDefaultCombine: Node {
    static let positive = Input<Conditioning>("positive")
    static let negative = Input<Conditioning>("negative")
    static let positiveDefault = Input<Conditioning>("positive_DEFAULT")
    static let negativeDefault = Input<Conditioning>("negative_DEFAULT")
    static let hooks = Input<Hooks>("hooks", optional: true)

    public static let schema = NodeSchema(
        "PairConditioningSetDefaultCombine", displayName: "Cond Pair Set Default Combine",
        category: "advanced/hooks/cond pair",
        inputs: [positive, negative, positiveDefault, negativeDefault, hooks],
        outputs: outputs(Output<Conditioning>("positive"), Output<Conditioning>("negative")))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let properties = ConditioningProperties(hooks: try inputs.optional(Self.hooks), isDefault: true)
        return NodeOutputs(
            properties.combining(try inputs[Self.positive], with: try inputs[Self.positiveDefault]),
            properties.combining(try inputs[Self.negative], with: try inputs[Self.negativeDefault]))
    }
}
