import LatentflowTensor

/// The "alternative" Euler CFG++ of `SamplerEulerCFGpp`: a plain Euler step whose derivative is
/// taken from x − denoised + uncond, so the guidance enters once, through the guided prediction,
/// and the renoising follows the unconditional one. Every step is an Euler step, the last one too.
///
/// Matches: ComfyUI `comfy_extras/nodes_advanced_samplers.py` `sample_euler_pp` (its post-CFG
/// function records `uncond_denoised` with `disable_cfg1_optimization`).
struct EulerCFGPPAlternative: GuidedSamplerAlgorithm {
    var names: [SamplerName] { [] }

    func sample(
        guided: GuidedDenoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        try Samplers.steppingGuided(from: x, sigmas: sigmas, guided: guided, onStep: onStep) {
            step, x, denoised, uncond in
            let shifted = try x.subtracting(denoised).adding(uncond)
            let d = try Samplers.derivative(shifted, denoised, sigma: step.sigma)
            return try x.adding(d.scaled(by: step.next - step.sigma))
        }
    }
}
