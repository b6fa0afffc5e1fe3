import Foundation
import LatentflowGraph
import LatentflowModels
import LatentflowSampling
import LatentflowTensor

/// Works out a conditioning entry's control residuals at each sampler step: each link of the
/// chain that is inside its timestep range runs on the step's input, its residuals scaled by its
/// strength and added onto those before it. Hints are resized once per latent size, and a
/// T2I-Adapter's features, which depend only on the hint, are computed once.
///
/// Matches: ComfyUI `comfy/controlnet.py` `ControlNet.get_control`, `T2IAdapter.get_control`
/// (`common_upscale` nearest-exact with centre crop to 8x the latent, `broadcast_image_to`,
/// `model_sampling.calculate_input`/`timestep`, `control_merge`), `ControlBase.pre_run`
/// (`percent_to_sigma` range).
final class ControlEvaluator: @unchecked Sendable {
    private let sampling: ModelSampling
    private var hints: [HintKey: Tensor] = [:]
    private var adapterFeatures: [HintKey: ControlResiduals] = [:]
    private let lock = NSLock()
    private let warn: (String) -> Void
    private var warned = false

    private struct HintKey: Hashable {
        let link: ObjectIdentifier
        let height: Int, width: Int, batch: Int
    }

    init(sampling: ModelSampling, warn: @escaping (String) -> Void) {
        (self.sampling, self.warn) = (sampling, warn)
    }

    /// What the UNet adds for `control` at `sigma`, given the step's latents `x` (unscaled) and
    /// the entry's text `context` (repeated to the batch); nil when no link is in range.
    func residuals(_ control: ControlApplication, x: Tensor, sigma: Float, context: Tensor) throws -> ControlResiduals?
    {
        var merged: ControlResiduals?
        for link in control.chain {
            let start = sampling.percentToSigma(link.startPercent), end = sampling.percentToSigma(link.endPercent)
            if sigma > start || sigma < end { continue }
            let strength = Float(link.strength)
            let own: ControlResiduals
            switch link.model.model {
            case .controlNet(let net):
                let hint = try resizedHint(link, x: x, multiple: 1, channels: nil)
                let input = sampling.calculateInput(sigma: sigma, x)
                own = try net(
                    input, hint: hint, timesteps: Array(repeating: sampling.timestep(sigma), count: x.dim(0)),
                    context: context)
            case .t2iAdapter(let adapter):
                own = try features(link, adapter, x: x)
            }
            let scaled = own.scaled(by: strength, globalAveragePooling: link.model.globalAveragePooling)
            merged = try merged.map { try scaled.merged(onto: $0) } ?? scaled
        }
        return merged
    }

    /// Reports the first residual that does not fit the UNet (ComfyUI warns each time).
    func mismatch(_ message: String) {
        lock.lock()
        defer { lock.unlock() }
        guard !warned else { return }
        warned = true
        warn(message)
    }

    private func features(_ link: ControlApplication, _ adapter: T2IAdapter, x: Tensor) throws -> ControlResiduals {
        let key = HintKey(link: ObjectIdentifier(link), height: x.dim(2), width: x.dim(3), batch: x.dim(0))
        lock.lock()
        let cached = adapterFeatures[key]
        lock.unlock()
        if let cached { return cached }
        // The adapter unshuffles by 8, so its hint is rounded up to a multiple of 8 (`scale_image_to`).
        let hint = try resizedHint(link, x: x, multiple: 8, channels: adapter.hintChannels)
        let features = try adapter(hint)
        lock.lock()
        adapterFeatures[key] = features
        lock.unlock()
        return features
    }

    /// The hint at 8x the latent's size (rounded up to `multiple`), broadcast to its batch; a
    /// one-channel model gets the channel mean.
    private func resizedHint(_ link: ControlApplication, x: Tensor, multiple: Int, channels: Int?) throws -> Tensor {
        let key = HintKey(link: ObjectIdentifier(link), height: x.dim(2), width: x.dim(3), batch: x.dim(0))
        lock.lock()
        let cached = hints[key]
        lock.unlock()
        if let cached { return cached }
        func rounded(_ size: Int) -> Int { (size * 8 + multiple - 1) / multiple * multiple }
        var hint = try commonUpscale(
            link.hint, width: rounded(x.dim(3)), height: rounded(x.dim(2)), method: "nearest-exact", crop: "center")
        if channels == 1, hint.dim(1) > 1 { hint = try hint.channelMean() }
        hint = try hint.repeatedToBatch(x.dim(0))
        lock.lock()
        hints[key] = hint
        lock.unlock()
        return hint
    }
}

extension Tensor {
    /// `[N, C, H, W] -> [N, 1, H, W]`, the mean over channels.
    func channelMean() throws -> Tensor {
        let (n, c, plane) = (dim(0), dim(1), dim(2) * dim(3))
        return withUnsafeBufferPointer { source in
            Tensor(shape: [n, 1, dim(2), dim(3)]) { out in
                for b in 0..<n {
                    for i in 0..<plane {
                        var sum: Float = 0
                        for ch in 0..<c { sum += source[(b * c + ch) * plane + i] }
                        out[b * plane + i] = sum / Float(c)
                    }
                }
            }
        }
    }
}
