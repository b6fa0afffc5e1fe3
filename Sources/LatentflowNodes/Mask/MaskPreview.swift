import LatentflowGraph
import LatentflowTensor

/// Shows masks as grey images, written to the temp folder as PreviewImage writes (PNG level 4).
///
/// Matches: ComfyUI `comfy_extras/nodes_mask.py` `MaskPreview` (a SaveImage to the temp folder).
public struct MaskPreview: Node {
    static let mask = Input<Mask>("mask")

    public static let schema = NodeSchema("MaskPreview", category: "mask", inputs: [mask], isOutputNode: true)

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let values = try inputs[Self.mask].values
        guard values.rank >= 2, values.count > 0 else {
            throw NodeError("MaskPreview needs a mask [.., H, W], got \(values.shape)")
        }
        let (h, w) = (values.dim(-2), values.dim(-1))
        let grey = Tensor(shape: [values.count / (h * w), h, w, 3]) { out in
            values.withUnsafeBufferPointer { m in
                for i in 0..<m.count { for channel in 0..<3 { out[i * 3 + channel] = m[i] } }
            }
        }
        return try ImageSaver.preview(ImageBatch(grey), compressionLevel: 4, context: context)
    }
}
