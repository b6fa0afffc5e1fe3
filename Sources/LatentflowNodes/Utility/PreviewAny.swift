import LatentflowGraph
import LatentflowTensor

/// ComfyUI's `PreviewAny` ("Preview Any", `comfy_extras/nodes_preview_any.py` at v0.3.64): any value as
/// text, shown in the UI (v0.3.64 declares no outputs).
public struct PreviewAny: Node {
    static let source = InputSpec(name: "source", type: .any)

    public static let schema = NodeSchema(
        "PreviewAny", displayName: "Preview Any", category: "utils",
        inputs: [source], isOutputNode: true)

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let text = Self.text(of: inputs.raw("source"))
        return NodeOutputs(values: [], ui: .object([("text", .array([.string(text)]))]))
    }

    /// Strings as they are and numbers as Python's `str` writes them, as ComfyUI does; other values
    /// (which ComfyUI prints with torch's tensor repr) as their type and shape.
    static func text(of value: (any Sendable)?) -> String {
        switch value {
        case nil: return "None"
        case let string as String: return string
        case let flag as Bool: return flag ? "True" : "False"
        case let number as Int: return String(number)
        case let number as Double: return pythonString(number)
        case let tensor as Tensor: return "tensor of shape \(tensor.shape)"
        case let latent as Latent: return "LATENT: samples of shape \(latent.samples.shape)"
        case let image as ImageBatch: return "IMAGE of shape \(image.pixels.shape)"
        case let value?:
            if let described = value as? CustomStringConvertible { return described.description }
            return "source exists, but could not be serialized."
        }
    }

    /// Python's `str(float)`: Swift's description has the same shortest round-trip digits and
    /// exponent style; it differs only between 2^53 and 1e16, where Python still writes all digits.
    static func pythonString(_ number: Double) -> String {
        if number.isNaN { return "nan" }
        if number.isInfinite { return number < 0 ? "-inf" : "inf" }
        return number.description
    }
}
