import LatentflowTensor

/// A model seen only as a function: (noisy latent, sigma) → denoised latent.
public typealias Denoiser = (_ x: Tensor, _ sigma: Float) throws -> Tensor

/// Called after each step with (step, total, denoised); may throw to cancel.
public typealias StepCallback = (_ step: Int, _ total: Int, _ denoised: Tensor) throws -> Void

/// One of ComfyUI's sampling functions: the names it answers to, what it needs of the
/// schedule, and its sampling loop over a denoiser, a starting latent and a sigma schedule.
///
/// Each algorithm lives in its own file (or with its small family) and is listed once in
/// `SamplerTable.algorithms`; a ComfyUI name that no algorithm claims is not implemented yet.
public protocol SamplerAlgorithm: Sendable {
    /// The ComfyUI names it runs: a `_gpu` spelling shares its algorithm on CPU.
    var names: [SamplerName] { get }

    /// Whether KSampler schedules one step more and drops the next-to-last sigma for it
    /// (ComfyUI's `KSampler.DISCARD_PENULTIMATE_SIGMA_SAMPLERS`).
    var discardsPenultimateSigma: Bool { get }

    /// Samples from `x` along `sigmas` (at least two of them). `noise` is the per-step noise
    /// of ancestral samplers; its `seed` seeds the SDE samplers' Brownian tree.
    func sample(
        denoiser: Denoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor
}

extension SamplerAlgorithm {
    public var discardsPenultimateSigma: Bool { false }
}
