import LatentflowGraph
import LatentflowModels
import LatentflowTensor

/// ComfyUI's STYLE_MODEL: a loaded T2I style adapter.
public struct StyleModel: PortValue, MemoryFootprint {
    public static var portType: PortType { "STYLE_MODEL" }
    public let model: StyleAdapter
    public var byteCount: Int { model.byteCount }

    public init(_ model: StyleAdapter) { self.model = model }
}

/// Loads a style model from `models/style_models`.
///
/// Matches: ComfyUI `nodes.py` `StyleModelLoader` over `comfy/sd.py` `load_style_model` (the T2I
/// style adapter; Flux Redux files are refused with a message).
public struct StyleModelLoader: Node {
    static let name = Input.files("style_model_name", folder: "style_models")

    public static let schema = NodeSchema(
        "StyleModelLoader", displayName: "Load Style Model", category: "loaders",
        inputs: [name], outputs: outputs(Output<StyleModel>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let url = try context.environment.files.locate(try inputs[Self.name], in: "style_models")
        do {
            return NodeOutputs(StyleModel(try StyleAdapter.load(path: url.path)))
        } catch let error as ModelLoadError {
            throw NodeError("StyleModelLoader: \(error.description)")
        }
    }

    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        fileFingerprint(constants[name], folder: "style_models", environment: environment)
    }
}

/// Appends a style model's tokens for a CLIP vision encoding to every conditioning entry's text
/// tokens, scaled by `strength` ("multiply").
///
/// Matches: ComfyUI `nodes.py` `StyleModelApply`: the tokens of every image in the batch are laid
/// end to end (`flatten(0, 1).unsqueeze(0)`). "attn_bias" with a strength other than 1 instead
/// biases the cross-attention towards those tokens through an attention mask, which Latentflow's
/// cross-attention does not take: that case is refused with a message (at 1 it adds nothing, as in
/// ComfyUI).
public struct StyleModelApply: Node {
    static let conditioning = Input<Conditioning>("conditioning")
    static let styleModel = Input<StyleModel>("style_model")
    static let visionOutput = Input<CLIPVisionEncoding>("clip_vision_output")
    static let strength = Input.float("strength", default: 1, min: 0, max: 10, step: 0.001)
    static let strengthType = Input.combo("strength_type", options: ["multiply", "attn_bias"])

    public static let schema = NodeSchema(
        "StyleModelApply", displayName: "Apply Style Model", category: "conditioning/style_model",
        inputs: [conditioning, styleModel, visionOutput, strength, strengthType],
        outputs: outputs(Output<Conditioning>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let strength = try inputs[Self.strength]
        let multiply = try inputs[Self.strengthType] == "multiply"
        if !multiply && strength != 1 {
            throw NodeError(
                "StyleModelApply: strength_type \"attn_bias\" with a strength other than 1 needs an attention mask on the cross-attention, which Latentflow does not support yet; use \"multiply\""
            )
        }
        let adapter = try inputs[Self.styleModel].model
        let states = try inputs[Self.visionOutput].output.lastHiddenState
        guard states.rank == 3, states.dim(2) == adapter.width else {
            throw NodeError(
                "StyleModelApply: clip_vision_output has states \(states.shape) but the style model takes width \(adapter.width) (use the CLIP vision model it was trained on)"
            )
        }
        let style = try adapter(states)  // [N, tokens, context]
        var tokens = try style.reshaped([1, style.dim(0) * style.dim(1), style.dim(2)])
        if multiply { tokens = tokens.scaled(by: Float(strength)) }
        var result = try inputs[Self.conditioning]
        for index in result.entries.indices {
            let text = result.entries[index].embedding
            guard text.rank == 3, text.dim(0) == 1, text.dim(2) == adapter.contextWidth else {
                throw NodeError(
                    "StyleModelApply: conditioning \(index) has tokens \(text.shape) but the style model makes [1, *, \(adapter.contextWidth)]"
                )
            }
            result.entries[index].embedding = try Tensor.concat([text, tokens], axis: 1)
        }
        return NodeOutputs(result)
    }
}
