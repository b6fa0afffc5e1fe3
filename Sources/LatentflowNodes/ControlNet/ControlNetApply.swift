import LatentflowGraph
import LatentflowModels
import LatentflowTensor

/// Applies a ControlNet to the positive and negative conditioning, for part of the schedule.
/// Entries that already share a control chain share the new link too; with several applied one
/// after another, the residuals add up.
///
/// Matches: ComfyUI `nodes.py` `ControlNetApplyAdvanced.apply_controlnet`. The optional VAE is
/// only read by ControlNets working in latent space (SD3, Flux), none of which Latentflow loads;
/// SD1.x ControlNets ignore it, as in ComfyUI.
public struct ControlNetApplyAdvanced: Node {
    static let positive = Input<Conditioning>("positive")
    static let negative = Input<Conditioning>("negative")
    static let controlNet = Input<ControlNetValue>("control_net")
    static let image = Input<ImageBatch>("image")
    static let strength = Input.float("strength", default: 1.0, min: 0, max: 10, step: 0.01)
    static let startPercent = Input.float("start_percent", default: 0, min: 0, max: 1, step: 0.001)
    static let endPercent = Input.float("end_percent", default: 1, min: 0, max: 1, step: 0.001)
    static let vae = Input<VAEModel>("vae").optional

    public static let schema = NodeSchema(
        "ControlNetApplyAdvanced", displayName: "Apply ControlNet", category: "conditioning/controlnet",
        inputs: [positive, negative, controlNet, image, strength, startPercent, endPercent, vae],
        outputs: outputs(Output<Conditioning>("positive"), Output<Conditioning>("negative")))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let (positive, negative) = (try inputs[Self.positive], try inputs[Self.negative])
        let strength = try inputs[Self.strength]
        if strength == 0 { return NodeOutputs(positive, negative) }
        let model = try inputs[Self.controlNet].loaded
        let hint = try inputs[Self.image].channelsFirst()
        let (start, end) = (try inputs[Self.startPercent], try inputs[Self.endPercent])
        // One new link per distinct previous chain (ComfyUI's `cnets` dict), across both sides.
        var links: [ObjectIdentifier?: ControlApplication] = [:]
        func apply(_ conditioning: Conditioning) -> Conditioning {
            conditioning.updatingEntries { entry in
                let key = entry.control.map(ObjectIdentifier.init)
                let link =
                    links[key]
                    ?? ControlApplication(
                        model: model, hint: hint, strength: strength, startPercent: start, endPercent: end,
                        previous: entry.control)
                links[key] = link
                entry.control = link
                entry.controlAppliesToUncond = false
            }
        }
        return NodeOutputs(apply(positive), apply(negative))
    }
}

/// The old single-conditioning form, still in published workflows: the control is also used for
/// the negative side when that has none.
///
/// Matches: ComfyUI `nodes.py` `ControlNetApply.apply_controlnet` (deprecated).
public struct ControlNetApply: Node {
    static let conditioning = Input<Conditioning>("conditioning")
    static let controlNet = Input<ControlNetValue>("control_net")
    static let image = Input<ImageBatch>("image")
    static let strength = Input.float("strength", default: 1.0, min: 0, max: 10, step: 0.01)

    public static let schema = NodeSchema(
        "ControlNetApply", displayName: "Apply ControlNet (OLD)", category: "conditioning/controlnet",
        inputs: [conditioning, controlNet, image, strength], outputs: outputs(Output<Conditioning>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let conditioning = try inputs[Self.conditioning]
        let strength = try inputs[Self.strength]
        if strength == 0 { return NodeOutputs(conditioning) }
        let model = try inputs[Self.controlNet].loaded
        let hint = try inputs[Self.image].channelsFirst()
        return NodeOutputs(
            conditioning.updatingEntries { entry in
                entry.control = ControlApplication(
                    model: model, hint: hint, strength: strength, previous: entry.control)
                entry.controlAppliesToUncond = true
            })
    }
}
