import LatentflowTensor

/// Euler: one derivative per step. `ddim` runs the same (ComfyUI samples it as euler, which
/// differs only with an inpaint mask).
///
/// Matches: ComfyUI `comfy/k_diffusion/sampling.py` `sample_euler` with s_churn 0; `ddim` is
/// `comfy/samplers.py` `ksampler("euler", inpaint_options={"random": True})`.
struct Euler: SamplerAlgorithm {
    var names: [SamplerName] { [.euler, .ddim] }

    func sample(
        denoiser: Denoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        try Samplers.stepping(from: x, sigmas: sigmas, denoiser: denoiser, onStep: onStep) { step, x, denoised in
            try Samplers.eulerStep(x, denoised, sigma: step.sigma, to: step.next)
        }
    }
}
