import LatentflowGraph
import LatentflowModels
import LatentflowTensor

/// Loads a GLIGEN box model from `models/gligen`.
///
/// Matches: ComfyUI `nodes.py` `GLIGENLoader` over `comfy/gligen.py` `load_gligen`.
public struct GLIGENLoader: Node {
    static let name = Input.files("gligen_name", folder: "gligen")

    public static let schema = NodeSchema(
        "GLIGENLoader", displayName: "GLIGENLoader", category: "loaders",
        inputs: [name], outputs: outputs(Output<GLIGENValue>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let url = try context.environment.files.locate(try inputs[Self.name], in: "gligen")
        do {
            return NodeOutputs(GLIGENValue(try GLIGEN.load(path: url.path)))
        } catch let error as ModelLoadError {
            throw NodeError(error.description)
        }
    }

    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        fileFingerprint(constants[name], folder: "gligen", environment: environment)
    }
}

/// Adds a box to every entry of a conditioning: the box text's pooled CLIP embedding and where it
/// goes, in pixels, which GLIGEN's gated attention reads while sampling.
///
/// Matches: ComfyUI `nodes.py` `GLIGENTextBoxApply` (`return_pooled="unprojected"`, the box as
/// `h // 8, w // 8, y // 8, x // 8`, appended to the entry's earlier boxes).
public struct GLIGENTextBoxApply: Node {
    static let conditioning = Input<Conditioning>("conditioning_to")
    static let clip = Input<TextEncoder>("clip")
    static let model = Input<GLIGENValue>("gligen_textbox_model")
    static let text = Input.string("text", multiline: true)
    static let width = Input.int("width", default: 64, min: 8, max: maxResolution, step: 8)
    static let height = Input.int("height", default: 64, min: 8, max: maxResolution, step: 8)
    static let x = Input.int("x", default: 0, min: 0, max: maxResolution, step: 8)
    static let y = Input.int("y", default: 0, min: 0, max: maxResolution, step: 8)

    public static let schema = NodeSchema(
        "GLIGENTextBoxApply", displayName: "GLIGENTextBoxApply", category: "conditioning/gligen",
        inputs: [conditioning, clip, model, text, width, height, x, y], outputs: outputs(Output<Conditioning>()))

    public init() {}

    public static func validate(_ constants: NodeConstants, environment: ExecutionEnvironment) -> String? {
        (constants["text"] as? String).flatMap(PromptLimits.problem).map { "text: \($0)" }
    }

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let encoder = try inputs[Self.clip]
        let gligen = try inputs[Self.model].model
        let pooled = try encoder.promptEncoder.pooled(try inputs[Self.text])  // [1, width]
        guard pooled.count == gligen.keyDim else {
            throw NodeError(
                "gligen_textbox_model: the GLIGEN model takes \(gligen.keyDim)-wide text embeddings, "
                    + "the CLIP model gives \(pooled.count)")
        }
        let latent = LatentFormat.sd15.latentLength(forPixels:)
        let box = GLIGENBox(
            embedding: try pooled.reshaped([pooled.count]), height: latent(try inputs[Self.height]),
            width: latent(try inputs[Self.width]), y: latent(try inputs[Self.y]), x: latent(try inputs[Self.x]))
        let entries = try inputs[Self.conditioning].entries.map { entry -> Conditioning.Entry in
            var copy = entry
            // ComfyUI keeps the earlier boxes but takes the model of the last apply.
            copy.gligen = GLIGENConditioning(model: gligen, boxes: (entry.gligen?.boxes ?? []) + [box])
            return copy
        }
        return NodeOutputs(Conditioning(entries))
    }
}
