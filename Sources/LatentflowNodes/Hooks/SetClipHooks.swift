import LatentflowGraph

/// Gives a CLIP hooks: their LoRAs patch it while it encodes (at strength_clip; with
/// `schedule_clip`, once per span of their keyframes), and with `apply_to_conds` the encoded
/// conditionings carry the hooks into sampling.
public struct SetClipHooks: Node {
    static let clip = Input<TextEncoder>("clip")
    static let applyToConds = Input.boolean("apply_to_conds", default: true)
    static let scheduleClip = Input.boolean("schedule_clip", default: false)
    static let hooks = Input<Hooks>("hooks", optional: true)

    public static let schema = NodeSchema(
        "SetClipHooks", displayName: "Set CLIP Hooks", category: "advanced/hooks/clip",
        inputs: [clip, applyToConds, scheduleClip, hooks], outputs: outputs(Output<TextEncoder>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var clip = try inputs[Self.clip]
        // No hooks (or ComfyUI's None from an empty combine): the CLIP as it is.
        guard let hooks = try inputs.optional(Self.hooks), !hooks.isEmpty else { return NodeOutputs(clip) }
        let schedule = try inputs[Self.scheduleClip]
        if try inputs[Self.applyToConds] { clip.hooksForConditioning = hooks }
        // Unscheduled, the CLIP's own copy of the hooks drops their keyframes (full strength).
        clip.hooks = schedule ? hooks : hooks.settingKeyframes(nil)
        clip.schedulesHooks = schedule
        return NodeOutputs(clip)
    }
}
