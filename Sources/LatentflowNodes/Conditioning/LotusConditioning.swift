import Foundation
import LatentflowGraph
import LatentflowIO
import LatentflowTensor

/// Lotus's conditioning: Lotus depth/normal UNets were trained with a frozen text encoder on the
/// empty prompt, so their conditioning is one fixed tensor. ComfyUI inlines it; Latentflow ships
/// it as a float16 safetensors resource recorded from ComfyUI's node by
/// scripts/make_lotus_conditioning.py.
///
/// Matches: ComfyUI `comfy_extras/nodes_lotus.py` `LotusConditioning` (no inputs; one entry, no options).
public struct LotusConditioning: Node {
    public static let schema = NodeSchema(
        "LotusConditioning", category: "conditioning/lotus", inputs: [],
        outputs: outputs(Output<Conditioning>("conditioning")))

    /// The resource's tensor key.
    static let key = "conditioning"

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        NodeOutputs(Conditioning([.init(embedding: try Self.embedding())]))
    }

    /// The null-prompt embedding `[1, 2, 1024]` (an SD2 OpenCLIP width), read from the bundle.
    static func embedding() throws -> Tensor {
        let name = "lotus_conditioning.safetensors"
        guard
            let url = Bundle.module.url(
                forResource: "lotus_conditioning", withExtension: "safetensors", subdirectory: "Resources")
        else { throw NodeError("LotusConditioning: the resource \(name) is missing from the bundle") }
        let file = try SafeTensorsFile(path: url.path)
        do { return try file.tensor(key) } catch {
            throw NodeError("LotusConditioning: \(name) has no usable tensor '\(key)': \(error)")
        }
    }
}
