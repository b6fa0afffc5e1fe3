import LatentflowGraph
import LatentflowSampling

/// EasyCache's settings on a MODEL; each sampling run makes its own `EasyCache` from them.
public struct EasyCacheSettings: Sendable {
    public var threshold: Float
    public var startPercent: Double, endPercent: Double
    /// Report every skipped step as a warning (ComfyUI's `verbose` logging).
    public var verbose: Bool

    /// A new cache for one run with this model's sampling (ComfyUI's `prepare_timesteps` on a clone).
    func cache(_ sampling: ModelSampling, log: @escaping (String) -> Void) -> EasyCache {
        EasyCache(
            threshold: threshold, startSigma: sampling.percentToSigma(startPercent),
            endSigma: sampling.percentToSigma(endPercent), log: verbose ? log : nil)
    }
}

/// EasyCache: reuses the last computed step's UNet output − input differences, per conditioning,
/// for sampling steps whose input changed little (`EasyCache` in LatentflowSampling).
///
/// Matches: ComfyUI `comfy_extras/nodes_easycache.py` `EasyCacheNode` (subsample factor 8; the
/// state is new for every sampling run; a later EasyCache replaces an earlier one's settings, as
/// they share ComfyUI's `transformer_options` key).
public struct EasyCacheNode: Node {
    static let model = Input<DiffusionModel>("model", tooltip: "The model to add EasyCache to.")
    static let reuseThreshold = Input.float(
        "reuse_threshold", default: 0.2, min: 0.0, max: 3.0, step: 0.01,
        tooltip: "The threshold for reusing cached steps.")
    static let startPercent = Input.float(
        "start_percent", default: 0.15, min: 0.0, max: 1.0, step: 0.01,
        tooltip: "The relative sampling step to begin use of EasyCache.")
    static let endPercent = Input.float(
        "end_percent", default: 0.95, min: 0.0, max: 1.0, step: 0.01,
        tooltip: "The relative sampling step to end use of EasyCache.")
    static let verbose = Input.boolean("verbose", default: false, tooltip: "Whether to log verbose information.")

    public static let schema = NodeSchema(
        "EasyCache", displayName: "EasyCache", category: "advanced/debug/model",
        description: "Native EasyCache implementation.",
        inputs: [model, reuseThreshold, startPercent, endPercent, verbose],
        outputs: outputs(Output<DiffusionModel>(tooltip: "The model with EasyCache.")))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var model = try inputs[Self.model]
        model.easyCache = EasyCacheSettings(
            threshold: Float(try inputs[Self.reuseThreshold]), startPercent: try inputs[Self.startPercent],
            endPercent: try inputs[Self.endPercent], verbose: try inputs[Self.verbose])
        return NodeOutputs(model)
    }
}
