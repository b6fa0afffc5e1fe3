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

/// A guided model as CFG++ samplers see it: the guided prediction and the unconditional one it
/// was guided from, the negative side computed even at cfg 1.
public typealias GuidedDenoiser = (_ x: Tensor, _ sigma: Float) throws -> (denoised: Tensor, unconditional: Tensor)

/// A sampler that also steps along the unconditional prediction (ComfyUI's `*_cfg_pp` samplers,
/// which record `uncond_denoised` through a `sampler_post_cfg_function` and set
/// `disable_cfg1_optimization`). Its plain `sample` refuses: there is no unconditional prediction.
public protocol GuidedSamplerAlgorithm: SamplerAlgorithm {
    func sample(
        guided: GuidedDenoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor
}

extension GuidedSamplerAlgorithm {
    public func sample(
        denoiser: Denoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        let name = names.first?.rawValue ?? "this CFG++ sampler"
        throw SamplingError("sampler '\(name)' needs the unconditional prediction, which only CFG guidance gives")
    }
}

extension SamplerAlgorithm {
    /// Runs the sampler on `guided` where it is a CFG++ sampler and one is given, else on `denoiser`.
    func run(
        denoiser: Denoiser, guided: GuidedDenoiser?, x: Tensor, sigmas: [Float], sampling: ModelSampling,
        noise: inout StepNoise, onStep: StepCallback
    ) throws -> Tensor {
        if let algorithm = self as? any GuidedSamplerAlgorithm, let guided {
            return try algorithm.sample(
                guided: guided, x: x, sigmas: sigmas, sampling: sampling, noise: &noise, onStep: onStep)
        }
        return try sample(denoiser: denoiser, x: x, sigmas: sigmas, sampling: sampling, noise: &noise, onStep: onStep)
    }
}
