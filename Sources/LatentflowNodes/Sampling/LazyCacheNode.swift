import LatentflowGraph
import LatentflowSampling

/// LazyCache: reuses the last computed step's output − input difference for sampling steps whose
/// input changed little (`LazyCache` in LatentflowSampling).
///
/// Matches: ComfyUI `comfy_extras/nodes_easycache.py` `LazyCacheNode` (subsample factor 8; the
/// state is new for every sampling run). `verbose` only logs in ComfyUI and changes nothing here.
public struct LazyCacheNode: Node {
    static let model = Input<DiffusionModel>("model")
    static let reuseThreshold = Input.float("reuse_threshold", default: 0.2, min: 0.0, max: 3.0, step: 0.01)
    static let startPercent = Input.float("start_percent", default: 0.15, min: 0.0, max: 1.0, step: 0.01)
    static let endPercent = Input.float("end_percent", default: 0.95, min: 0.0, max: 1.0, step: 0.01)
    static let verbose = Input.boolean("verbose", default: false)

    public static let schema = NodeSchema(
        "LazyCache", displayName: "LazyCache", category: "advanced/debug/model",
        description: "A homebrew version of EasyCache - even 'easier' version of EasyCache to implement. Overall "
            + "works worse than EasyCache, but better in some rare cases AND universal compatibility with "
            + "everything in ComfyUI.",
        inputs: [model, reuseThreshold, startPercent, endPercent, verbose], outputs: outputs(Output<DiffusionModel>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let threshold = Float(try inputs[Self.reuseThreshold])
        let (start, end) = (try inputs[Self.startPercent], try inputs[Self.endPercent])
        _ = try inputs[Self.verbose]
        var model = try inputs[Self.model]
        model.predictionWrappers.append(
            PredictionWrapper(name: "LazyCache") { inner, sampling in
                let cache = LazyCache(
                    threshold: threshold, startSigma: sampling.percentToSigma(start),
                    endSigma: sampling.percentToSigma(end))
                return { x, sigma in try cache.denoise(x, sigma: sigma) { try inner($0, sigma) } }
            })
        return NodeOutputs(model)
    }
}
