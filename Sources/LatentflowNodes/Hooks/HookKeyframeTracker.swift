/// Which keyframe of a hook is in force during one sampling run: it moves on to later keyframes
/// as sigma falls past their start, once the current one has had its guaranteed steps. A
/// keyframe that starts before the run's first sigma guarantees none.
///
/// Matches: ComfyUI `comfy/hooks.py` `HookKeyframeGroup.prepare_current_keyframe`,
/// `HookKeyframe.get_effective_guarantee_steps` (sigmas from `percent_to_sigma`).
final class HookKeyframeTracker {
    private let keyframes: [HookKeyframe]
    /// Each keyframe's start as a sigma.
    private let startSigmas: [Float]
    /// The largest sigma of the run (ComfyUI's `max(sample_sigmas)`).
    private let maxSigma: Float
    private var index = 0
    private var usedSteps = 0
    private var lastSigma: Float?

    init(_ keyframes: HookKeyframes, percentToSigma: (Double) -> Float, maxSigma: Float) {
        self.keyframes = keyframes.keyframes
        startSigmas = keyframes.keyframes.map { percentToSigma($0.startPercent) }
        self.maxSigma = maxSigma
    }

    /// The strength multiplier in force (1 without keyframes).
    var strength: Double { keyframes.isEmpty ? 1 : keyframes[index].strength }

    private func guaranteedSteps(_ i: Int) -> Int { startSigmas[i] > maxSigma ? 0 : keyframes[i].guaranteeSteps }

    /// Moves to the keyframe in force at `sigma`; a repeated sigma changes nothing.
    func advance(to sigma: Float) {
        guard !keyframes.isEmpty, sigma != lastSigma else { return }
        if usedSteps >= guaranteedSteps(index) {
            for next in (index + 1)..<max(index + 1, keyframes.count) {
                guard startSigmas[next] >= sigma else { break }
                (index, usedSteps) = (next, 0)
                if guaranteedSteps(next) > 0 { break }
            }
        }
        usedSteps += 1
        lastSigma = sigma
    }
}
