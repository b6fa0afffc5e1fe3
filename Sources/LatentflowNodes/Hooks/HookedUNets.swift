import Foundation
import LatentflowGraph
import LatentflowModels

/// The UNets hooked conditioning entries sample with during one run: the MODEL's weights (with
/// its ordinary LoRAs already in them; a checkpoint hook's difference is taken from the weights
/// before them, as ComfyUI's `model_as_lora` reads the patcher's backups) patched by each of an
/// entry's weight hooks at strength_model × the hook's keyframe strength in force, on copies of
/// the weights. Each group of hooks keeps the UNet of its current strengths only, rebuilt when a
/// keyframe changes them, so a schedule of many keyframes never holds many copies. Entries
/// without hooks, and hooks all at strength 0, use the MODEL's own UNet.
///
/// Matches: ComfyUI `comfy/model_patcher.py` `prepare_hook_patches_current_keyframe`,
/// `get_combined_hook_patches`, `patch_hooks` (and its `cached_hook_patches`), as
/// `comfy/samplers.py` `_calc_cond_batch` applies them per group of conds sharing hooks.
final class HookedUNets: @unchecked Sendable {
    private let model: DiffusionModel
    private let maxSigma: Float
    private let lock = NSLock()
    private var trackers: [ObjectIdentifier: HookKeyframeTracker] = [:]
    /// Per group of hooks (their identities, in order): the strengths its UNet was built for.
    private var unets: [[ObjectIdentifier]: (strengths: [Double], unet: UNet)] = [:]
    private lazy var unetKeyMap = LoRAKeyMap.unet(Array(model.weights.keys), config: model.unet.config)

    /// - Parameter sampleSigmas: the sigmas of the run (the largest decides which keyframes count
    ///   as started before it).
    init(model: DiffusionModel, sampleSigmas: [Float]) {
        self.model = model
        maxSigma = sampleSigmas.max() ?? .infinity
    }

    /// The UNet for an entry with `hooks` at `sigma`, moving each hook's keyframes on to `sigma`.
    func unet(for hooks: Hooks, at sigma: Float) throws -> UNet {
        lock.lock()
        defer { lock.unlock() }
        let group = hooks.hooks.map { ObjectIdentifier($0.reference) }
        let strengths = hooks.hooks.map { $0.strengthModel * tracker($0, sigma) }
        if strengths.allSatisfy({ $0 == 0 }) { return model.unet }
        if let cached = unets[group], cached.strengths == strengths { return cached.unet }
        guard !model.weights.isEmpty else { throw NodeError("this MODEL carries no weights for its hooks to patch") }
        var weights = model.weights
        for (hook, strength) in zip(hooks.hooks, strengths) where strength != 0 {
            switch hook.weights {
            case .lora(let lora):
                weights = try LoRAPatcher.apply(lora, to: weights, keyMap: unetKeyMap, strength: strength)
                    .weights
            case .modelAsLoRA(_, let unet, _):
                weights = try ModelAsLoRA.apply(
                    unet, to: weights, original: model.originalWeights ?? model.weights,
                    strength: strength)
            }
        }
        let unet = UNet(WeightStore(weights, source: "hooked weights").root, config: model.unet.config)
        unets[group] = (strengths, unet)
        return unet
    }

    private func tracker(_ hook: Hook, _ sigma: Float) -> Double {
        let key = ObjectIdentifier(hook.reference)
        let tracker =
            trackers[key]
            ?? HookKeyframeTracker(hook.keyframes, percentToSigma: model.sampling.percentToSigma, maxSigma: maxSigma)
        trackers[key] = tracker
        tracker.advance(to: sigma)
        return tracker.strength
    }
}
