import Foundation
import LatentflowTensor

/// Sampling by ComfyUI name, and the arithmetic the k-diffusion samplers share. Each sampler's
/// own loop is a `SamplerAlgorithm` in its own file, found through `SamplerTable`.
///
/// Matches: ComfyUI `comfy/samplers.py` `KSAMPLER.sample` (which calls the `sample_xxx`
/// function of `comfy/k_diffusion/sampling.py` the name picks) and the helpers of
/// `comfy/k_diffusion/sampling.py` (`to_d`, `get_ancestral_step`).
public enum Samplers {
    /// - Parameter guided: the guided model with its unconditional prediction, which the CFG++
    ///   samplers step along (they refuse to run without it).
    /// - Parameter onStep: called after each step with (step, total, denoised); may throw to cancel.
    public static func sample(
        _ name: SamplerName, denoiser: Denoiser, guided: GuidedDenoiser? = nil, x start: Tensor, sigmas: [Float],
        sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback = { _, _, _ in }
    ) throws -> Tensor {
        guard sigmas.count > 1 else { return start }
        guard let algorithm = name.algorithm else {
            throw SamplingError("sampler '\(name.rawValue)' is not implemented in Latentflow yet")
        }
        return try algorithm.run(
            denoiser: denoiser, guided: guided, x: start, sigmas: sigmas, sampling: sampling, noise: &noise,
            onStep: onStep)
    }

    /// Where one step of a sampling loop stands: step `i` goes from `sigma` to `next`.
    struct Step {
        let i: Int
        let sigma: Float
        let next: Float
    }

    /// The loop most k-diffusion samplers share: at each sigma one denoiser call, then the
    /// sampler's step from that prediction to the next sigma (`step` may call the denoiser
    /// again for intermediate points).
    static func stepping(
        from start: Tensor, sigmas: [Float], denoiser: Denoiser, onStep: StepCallback,
        step: (_ step: Step, _ x: Tensor, _ denoised: Tensor) throws -> Tensor
    ) throws -> Tensor {
        var x = start
        let total = sigmas.count - 1
        guard total > 0 else { return x }
        for i in 0..<total {
            let sigma = sigmas[i], next = sigmas[i + 1]
            let denoised = try denoiser(x, sigma)
            x = try step(Step(i: i, sigma: sigma, next: next), x, denoised)
            try onStep(i + 1, total, denoised)
        }
        return x
    }

    /// A 0-dim tensor: dividing by one divides as torch does, where scaling by the reciprocal
    /// would round differently.
    static func scalar(_ value: Float) -> Tensor { Tensor(shape: [], repeating: value) }

    /// `(x − denoised) / σ`, the Karras ODE derivative (`to_d`).
    static func derivative(_ x: Tensor, _ denoised: Tensor, sigma: Float) throws -> Tensor {
        try x.subtracting(denoised).dividing(scalar(sigma))
    }

    static func eulerStep(_ x: Tensor, _ denoised: Tensor, sigma: Float, to next: Float) throws -> Tensor {
        try x.adding(derivative(x, denoised, sigma: sigma).scaled(by: next - sigma))
    }

    /// ComfyUI's `get_ancestral_step` with eta 1, in float32.
    static func ancestralStep(from sigma: Float, to next: Float) -> (down: Float, up: Float) {
        let up = min(next, (next * next * (sigma * sigma - next * next) / (sigma * sigma)).squareRoot())
        return ((next * next - up * up).squareRoot(), up)
    }

    /// torch's `lerp(a, b, 0.5)`: weights from 0.5 up are computed from the end.
    static func midpointLerp(_ a: Float, _ b: Float) -> Float { b - (b - a) * 0.5 }
}
