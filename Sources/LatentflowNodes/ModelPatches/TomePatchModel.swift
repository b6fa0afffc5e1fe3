import Foundation
import LatentflowGraph
import LatentflowModels
import LatentflowSampling
import LatentflowTensor

/// Token merging in the UNet's full-resolution self-attention: `ratio` of the query tokens are
/// averaged into similar ones before the attention and copied back after.
///
/// Matches: ComfyUI `comfy_extras/nodes_tomesd.py` `TomePatchModel` (an `attn1_patch` merging the
/// query and an `attn1_output_patch` unmerging; see `TokenMergingPatch` for its random draws).
public struct TomePatchModel: Node {
    static let model = Input<DiffusionModel>("model")
    static let ratio = Input.float("ratio", default: 0.3, min: 0.0, max: 1.0, step: 0.01)

    public static let schema = NodeSchema(
        "TomePatchModel", category: "model_patches/unet", inputs: [model, ratio],
        outputs: outputs(Output<DiffusionModel>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var model = try inputs[Self.model]
        let merging = TokenMergingPatch(ratio: try inputs[Self.ratio])
        model.patches.attn1.append(merging.attentionPatch)
        model.patches.attn1Output.append(merging.outputPatch)
        return NodeOutputs(model)
    }
}

/// The state ToMe's two patches share: the merge of the attention call in progress.
///
/// ComfyUI picks each 2×2 cell's destination token with `torch.randint` on torch's global
/// generator, whose state follows whatever drew from it last (the KSampler's noise). Latentflow
/// has no such global stream: a patch draws from its own `TorchCPUGenerator` (seeded with `seed`,
/// 0 from the node), one value per cell per merging call, across samplings of the same MODEL.
/// The draws equal ComfyUI's for a call made right after `torch.manual_seed(seed)`; with CFG,
/// Latentflow's separate positive and negative calls each draw where ComfyUI's batched call draws once.
public final class TokenMergingPatch: @unchecked Sendable {
    let ratio: Double
    private let lock = NSLock()
    private var generator: TorchCPUGenerator
    private var pending: TokenMerging?

    public init(ratio: Double, seed: UInt64 = 0) {
        self.ratio = ratio
        generator = TorchCPUGenerator(seed: seed)
    }

    /// The `attn1_patch` (`tomesd_m`): merges the query; keys and values stay whole.
    public var attentionPatch: UNetPatches.AttentionInput {
        { [self] q, k, v, call in (try mergeQuery(q, call), k, v) }
    }

    /// The `attn1_output_patch` (`tomesd_u`).
    public var outputPatch: UNetPatches.AttentionOutput {
        { [self] out, _ in
            lock.lock()
            let merging = pending
            pending = nil
            lock.unlock()
            return try merging?.unmerge(out) ?? out
        }
    }

    /// `get_functions`: merges only at full resolution (the token count's downsampling
    /// ceil(√(H·W / tokens)) is 1), removing int(tokens · ratio).
    func mergeQuery(_ q: Tensor, _ call: UNetCallInfo) throws -> Tensor {
        lock.lock()
        pending = nil
        lock.unlock()
        guard call.originalShape.count == 4, q.rank == 3, q.dim(1) > 0 else { return q }
        let (h, w) = (call.originalShape[2], call.originalShape[3])
        let downsample = Int((Double((h * w) / q.dim(1))).squareRoot().rounded(.up))
        guard downsample <= 1 else { return q }
        let remove = Int(Double(q.dim(1)) * ratio)
        guard remove > 0, h > 1, w > 1 else { return q }
        lock.lock()
        let destinations = (0..<TokenMerging.cellCount(height: h, width: w)).map { _ in
            Int(generator.nextUInt32() % 4)
        }
        lock.unlock()
        guard
            let merging = try TokenMerging(
                metric: q, height: h, width: w, remove: remove, destinations: destinations)
        else { return q }
        lock.lock()
        pending = merging
        lock.unlock()
        return try merging.merge(q)
    }
}
