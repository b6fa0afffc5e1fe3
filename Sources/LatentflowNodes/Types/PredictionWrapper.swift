import LatentflowSampling

/// A MODEL patch around each sampling run's whole guided prediction (ComfyUI's `PREDICT_NOISE`
/// wrapper, with the per-run state its `OUTER_SAMPLE` wrapper clones): `wrap` is called once per
/// run with the prediction and the MODEL's sampling, and returns the wrapped prediction. The
/// CFG++ samplers' prediction with its unconditional part is not wrapped.
public struct PredictionWrapper: Sendable {
    /// The node that added it, for messages.
    public let name: String
    let wrap: @Sendable (_ inner: @escaping Denoiser, _ sampling: ModelSampling) -> Denoiser

    public init(
        name: String, wrap: @escaping @Sendable (_ inner: @escaping Denoiser, _ sampling: ModelSampling) -> Denoiser
    ) {
        (self.name, self.wrap) = (name, wrap)
    }
}
