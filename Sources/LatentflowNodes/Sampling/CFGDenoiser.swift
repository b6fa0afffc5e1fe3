import LatentflowModels
import LatentflowSampling
import LatentflowTensor

/// The model as samplers see it: (x, σ) → denoised, with classifier-free guidance on the
/// denoised predictions and area conditioning. The guidance maths is `CFGGuidance`
/// (LatentflowSampling); this adapter gives it one UNet-calling denoiser per conditioning entry.
///
/// Matches: ComfyUI `comfy/samplers.py` `calc_cond_batch`'s model call and `BaseModel.apply_model`
/// (`model_sampling.calculate_input`, `timestep`, `calculate_denoised`).
struct CFGDenoiser {
    let guidance: CFGGuidance

    init(
        model: DiffusionModel, positive: Conditioning, negative: Conditioning, cfg: Double,
        warn: @escaping (String) -> Void = { _ in }
    ) {
        let controls = ControlEvaluator(sampling: model.sampling, warn: warn)
        func entries(_ conditioning: Conditioning) -> [CFGGuidance.Entry] {
            conditioning.entries.map { entry in
                CFGGuidance.Entry(
                    area: entry.area, strength: entry.strength,
                    startSigma: entry.startPercent.map(model.sampling.percentToSigma),
                    endSigma: entry.endPercent.map(model.sampling.percentToSigma)
                ) { x, sigma in
                    try Self.denoised(model, entry.embedding, x, sigma, control: entry.control, controls)
                }
            }
        }
        let negative = negative.withUncondControls(from: positive)
        guidance = CFGGuidance(positive: entries(positive), negative: entries(negative), cfg: cfg)
    }

    func denoise(_ x: Tensor, sigma: Float) throws -> Tensor { try guidance.denoise(x, sigma: sigma) }

    /// One UNet call: input scaling, quantized timestep, the text context repeated per sample.
    /// With a `control` chain, its residuals go into the same call (`calc_cond_batch` per cond chunk).
    static func denoised(
        _ model: DiffusionModel, _ embedding: Tensor, _ x: Tensor, _ sigma: Float,
        control: ControlApplication? = nil, _ controls: ControlEvaluator? = nil
    ) throws -> Tensor {
        let sampling = model.sampling
        let input = sampling.calculateInput(sigma: sigma, x)
        let n = x.dim(0)
        let context = n == 1 ? embedding : try Tensor.concat(Array(repeating: embedding, count: n), axis: 0)
        let residuals = try control.flatMap { try controls?.residuals($0, x: x, sigma: sigma, context: context) }
        let output = try model.unet(
            input, timesteps: Array(repeating: sampling.timestep(sigma), count: n),
            context: context, guidance: model.lcmGuidance, control: residuals, controlMismatch: controls?.mismatch)
        return try sampling.calculateDenoised(sigma: sigma, modelOutput: output, input: x)
    }
}
