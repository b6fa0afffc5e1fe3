import Foundation
import LatentflowTensor

/// One KSampler / KSamplerAdvanced / SamplerCustom run in ComfyUI's terms: the sigma schedule
/// (steps, denoise, start/end step), the initial noise and the latent scaling around the sampler.
///
/// Matches: ComfyUI `nodes.common_ksampler`, `comfy/sample.py` `sample`, `comfy/samplers.py`
/// `KSampler.calculate_sigmas` / `KSampler.set_steps` / `KSampler.sample` / `CFGGuider.inner_sample` / `KSAMPLER.sample`.
public struct SamplingPlan: Sendable {
    public var sampler: SamplerName
    public var sigmas: [Float]
    public var seed: UInt64
    public var addNoise = true
    /// The SD1.x latent scale factor (`process_latent_in` multiplies by it).
    public var latentScale: Float = 0.18215
    /// 0: ComfyUI up to late 2025 on CPU (step noise reuses the seed); 1: later versions.
    public var stepNoiseSeedOffset: UInt64 = 0
    /// The latent's noise mask (LATENT's `noise_mask`, any shape `InpaintBlend.prepareMask`
    /// takes): sampling then only changes where it is 1.
    public var denoiseMask: Tensor?
    /// Changes `denoiseMask` at each step (the MODEL's `denoise_mask_function`).
    public var denoiseMaskFunction: DenoiseMaskFunction?
    /// A sampler that is no ComfyUI menu name (a node pack's SAMPLER, such as TCD's): it runs in
    /// place of `sampler`'s algorithm.
    public var customAlgorithm: (any SamplerAlgorithm)?

    public init(sampler: SamplerName, sigmas: [Float], seed: UInt64) {
        (self.sampler, self.sigmas, self.seed) = (sampler, sigmas, seed)
    }

    /// KSampler's schedule: `denoise < 1` computes `int(steps/denoise)` steps and keeps the last
    /// `steps + 1` sigmas; `denoise <= 0` gives none. For the samplers whose algorithm
    /// `discardsPenultimateSigma` (dpm_2, dpm_2_ancestral, uni_pc, uni_pc_bh2) KSampler schedules
    /// one step more and drops the next-to-last sigma (SamplerCustom does not).
    public static func sigmas(
        scheduler: SchedulerName, sampling: ModelSampling, steps: Int, denoise: Double,
        sampler: SamplerName? = nil
    ) throws -> [Float] {
        func schedule(_ steps: Int) throws -> [Float] {
            guard let sampler, sampler.discardsPenultimateSigma else {
                return try Schedulers.sigmas(scheduler, sampling, steps: steps)
            }
            let sigmas = try Schedulers.sigmas(scheduler, sampling, steps: steps + 1)
            return Array(sigmas.dropLast(2)) + sigmas.suffix(1)
        }
        if denoise > 0.9999 { return try schedule(steps) }
        if denoise <= 0 { return [] }
        return Array(try schedule(scheduledSteps(steps: steps, denoise: denoise)).suffix(steps + 1))
    }

    /// The most steps a partial denoise may schedule: ComfyUI's largest `steps` (10000) at its
    /// smallest denoise step (0.01).
    public static let maxScheduledSteps = 1_000_000

    /// `int(steps / denoise)`, the steps a denoise below 1 schedules (of which the last `steps`
    /// run), checked before anything is allocated: a tiny positive denoise (1e-300) would ask for
    /// more steps than memory holds, or more than an Int counts.
    public static func scheduledSteps(steps: Int, denoise: Double) throws -> Int {
        let total = Double(steps) / denoise
        guard total.isFinite, total <= Double(maxScheduledSteps) else {
            throw SamplingError(
                "denoise \(denoise) with \(steps) steps would schedule \(String(format: "%.3g", total)) steps (steps / denoise); at most \(maxScheduledSteps) can be scheduled: use a denoise of at least \(Double(steps) / Double(maxScheduledSteps)) (ComfyUI's denoise is 0...1 in steps of 0.01)"
            )
        }
        return Int(total)
    }

    /// KSamplerAdvanced's truncation: stop after `endStep` (zeroing the last sigma when fully
    /// denoising), start at `startStep`; nil when there is nothing to sample.
    public static func window(_ sigmas: [Float], startStep: Int?, endStep: Int?, forceFullDenoise: Bool) -> [Float]? {
        var result = sigmas
        if let endStep, endStep < result.count - 1 {
            result = Array(result.prefix(endStep + 1))
            if forceFullDenoise { result[result.count - 1] = 0 }
        }
        if let startStep {
            guard startStep < result.count - 1 else { return nil }
            result = Array(result.dropFirst(startStep))
        }
        return result
    }

    /// The latent as the model sees it (`process_latent_in`); an all-zero latent is left as it is.
    public func processedLatent(_ latent: Tensor) -> Tensor {
        latent.scalars.allSatisfy { $0 == 0 } ? latent : latent.scaled(by: latentScale)
    }

    /// Samples a latent (unscaled, as LATENT carries it) and returns the result unscaled, plus the
    /// last denoised prediction (SamplerCustom's second output). `onStep` gets (step, total, the
    /// step's denoised prediction in model space, as ComfyUI's preview callback gets `x0`).
    /// `guided` (the guided model with its unconditional prediction) is what CFG++ samplers run on.
    public func run(
        latent: Tensor, batchIndex: [Int]?, sampling: ModelSampling, denoiser: @escaping Denoiser,
        guided: GuidedDenoiser? = nil, onStep: (Int, Int, Tensor) throws -> Void = { _, _, _ in }
    ) throws -> (samples: Tensor, denoised: Tensor) {
        guard sigmas.count > 1 else { return (latent, latent) }
        var generator = TorchCPUGenerator(seed: seed)
        let noise =
            addNoise
            ? try comfyInitialNoise(shape: latent.shape, generator: &generator, batchIndex: batchIndex)
            : Tensor(shape: latent.shape)
        let scaledLatent = processedLatent(latent)
        let start = try sampling.noiseScaling(
            sigma: sigmas[0], noise: noise, latent: scaledLatent,
            maxDenoise: sampling.isMaxDenoise(sigmas[0]))
        var stepNoise = StepNoise(seed: seed, offset: stepNoiseSeedOffset, initialNoiseStream: generator)
        var lastDenoised = start
        let wrapped = try inpaintDenoiser(denoiser, latent: scaledLatent, noise: noise, sampling: sampling)
        let wrappedGuided = try guided.map {
            try inpaintGuidedDenoiser($0, latent: scaledLatent, noise: noise, sampling: sampling)
        }
        let samples: Tensor
        if let customAlgorithm {
            samples = try customAlgorithm.run(
                denoiser: wrapped, guided: wrappedGuided, x: start, sigmas: sigmas, sampling: sampling,
                noise: &stepNoise
            ) { step, total, denoised in
                lastDenoised = denoised
                try onStep(step, total, denoised)
            }
        } else {
            samples = try Samplers.sample(
                sampler, denoiser: wrapped, guided: wrappedGuided, x: start, sigmas: sigmas, sampling: sampling,
                noise: &stepNoise
            ) { step, total, denoised in
                lastDenoised = denoised
                try onStep(step, total, denoised)
            }
        }
        // process_latent_out divides (it does not multiply by the reciprocal).
        let scale = Tensor(shape: [], repeating: latentScale)
        return (try samples.dividing(scale), try lastDenoised.dividing(scale))
    }

    /// The denoiser the sampler calls: `denoiser` itself, or with a noise mask wrapped in the
    /// inpainting blend (whose noise is, for ddim, `torch.manual_seed(seed + 1)`'s own draw).
    func inpaintDenoiser(
        _ denoiser: @escaping Denoiser, latent: Tensor, noise: Tensor, sampling: ModelSampling
    ) throws -> Denoiser {
        guard let denoiseMask else { return denoiser }
        var blendNoise = noise
        if sampler == .ddim {
            var generator = TorchCPUGenerator(seed: seed &+ 1)
            blendNoise = try generator.randn(latent.shape)
        }
        var blend = try InpaintBlend(
            mask: InpaintBlend.prepareMask(denoiseMask, shape: latent.shape), latent: latent, noise: blendNoise)
        if let denoiseMaskFunction { blend.maskFunction = (denoiseMaskFunction, sigmas) }
        return blend.wrapping(denoiser, sampling: sampling)
    }

    /// `inpaintDenoiser` for a guided model: the blend applies to the guided prediction, while the
    /// unconditional one comes through as the model gave it (ComfyUI's post-CFG hook records it
    /// inside `KSamplerX0Inpaint`'s model call).
    func inpaintGuidedDenoiser(
        _ guided: @escaping GuidedDenoiser, latent: Tensor, noise: Tensor, sampling: ModelSampling
    ) throws -> GuidedDenoiser {
        guard denoiseMask != nil else { return guided }
        var unconditional: Tensor?
        let blended = try inpaintDenoiser(
            { x, sigma in
                let prediction = try guided(x, sigma)
                unconditional = prediction.unconditional
                return prediction.denoised
            }, latent: latent, noise: noise, sampling: sampling)
        return { x, sigma in
            let denoised = try blended(x, sigma)
            guard let uncond = unconditional else { throw SamplingError("the guided model gave no prediction") }
            return (denoised, uncond)
        }
    }
}
