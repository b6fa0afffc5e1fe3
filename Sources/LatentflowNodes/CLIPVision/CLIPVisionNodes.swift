import LatentflowGraph
import LatentflowModels
import LatentflowTensor

/// ComfyUI's CLIP_VISION: a loaded CLIP image tower.
public struct CLIPVision: PortValue, MemoryFootprint {
    public static var portType: PortType { "CLIP_VISION" }
    public let model: CLIPVisionModel
    public let byteCount: Int
}

/// ComfyUI's CLIP_VISION_OUTPUT, what unCLIP conditioning and style models read.
public struct CLIPVisionEncoding: PortValue, MemoryFootprint {
    public static var portType: PortType { "CLIP_VISION_OUTPUT" }
    public let output: CLIPVisionOutput
    public var byteCount: Int {
        (output.lastHiddenState.count + output.penultimateHiddenStates.count + output.imageEmbeds.count) * 4
    }
}

/// Loads a CLIP vision tower from `models/clip_vision`.
///
/// Matches: ComfyUI `nodes.py` `CLIPVisionLoader` and `comfy/clip_vision.py` `load` (transformers
/// layout, or OpenCLIP's under `visual.`).
public struct CLIPVisionLoader: Node {
    static let clipName = Input.files("clip_name", folder: "clip_vision")

    public static let schema = NodeSchema(
        "CLIPVisionLoader", displayName: "Load CLIP Vision", category: "loaders",
        inputs: [clipName], outputs: outputs(Output<CLIPVision>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let url = try context.environment.files.locate(try inputs[Self.clipName], in: "clip_vision")
        let (model, bytes) = try StandaloneCLIPVision.load(path: url.path)
        return NodeOutputs(CLIPVision(model: model, byteCount: bytes))
    }

    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        fileFingerprint(constants[clipName], folder: "clip_vision", environment: environment)
    }
}

/// Encodes images with a CLIP vision tower: ComfyUI's preprocessing (centre crop or squash to the
/// tower's size, 8-bit rounding, CLIP's normalisation), then the tower.
///
/// Matches: ComfyUI `nodes.py` `CLIPVisionEncode`, `comfy/clip_vision.py` `encode_image`.
public struct CLIPVisionEncode: Node {
    static let clipVision = Input<CLIPVision>("clip_vision")
    static let image = Input<ImageBatch>("image")
    static let crop = Input.combo("crop", options: ["center", "none"])

    public static let schema = NodeSchema(
        "CLIPVisionEncode", displayName: "CLIP Vision Encode", category: "conditioning",
        inputs: [clipVision, image, crop], outputs: outputs(Output<CLIPVisionEncoding>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let model = try inputs[Self.clipVision].model
        let pixels = try CLIPImagePreprocessing.pixels(
            try inputs[Self.image].pixels, size: model.config.imageSize, crop: try inputs[Self.crop] == "center")
        return NodeOutputs(CLIPVisionEncoding(output: try model.encode(pixels)))
    }
}
