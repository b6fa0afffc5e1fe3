import LatentflowGraph
import LatentflowIO
import LatentflowTensor

/// One channel of an image file from the input folder as a mask (alpha inverted: 1 − a).
///
/// Matches: ComfyUI `nodes.py` `LoadImageMask.load_image`: the image converted to RGBA, so an
/// image without alpha gives an all-zero alpha mask of its size; the mask is `[1, H, W]`.
public struct LoadImageMask: Node {
    static let image = Input.files("image", folder: "input", imageUpload: true)
    static let channel = Input.combo("channel", options: ["alpha", "red", "green", "blue"])

    public static let schema = NodeSchema(
        "LoadImageMask", displayName: "Load Image (as Mask)", category: "mask",
        inputs: [image, channel], outputs: outputs(Output<Mask>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let raster = try LoadImage.decode(try inputs[Self.image], context: context)
        let name = try inputs[Self.channel]
        guard let channel = ["red", "green", "blue", "alpha"].firstIndex(of: name) else {
            throw NodeError("input 'channel': unknown channel '\(name)'")
        }
        let (h, w, c) = (raster.height, raster.width, raster.channels)
        let samples = raster.normalizedSamples
        let mask = Tensor(shape: [1, h, w]) { out in
            for pixel in 0..<(h * w) {
                if channel == 3 {
                    out[pixel] = c == 4 ? 1 - samples[pixel * 4 + 3] : 0
                } else {
                    out[pixel] = samples[pixel * c + min(channel, c - 1)]
                }
            }
        }
        return NodeOutputs(Mask(mask))
    }

    /// Re-runs when the file changes, as LoadImage does.
    public static func fingerprint(_ constants: NodeConstants, environment: ExecutionEnvironment) -> Fingerprint {
        fileFingerprint(constants[image], folder: "input", environment: environment)
    }
}
