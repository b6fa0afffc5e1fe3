import LatentflowTensor

/// Sampling with a noise mask (inpainting): where the mask is 0 the latent is kept, re-noised to
/// each step's sigma on the way into the model and restored in its prediction; where it is 1 the
/// model denoises freely. It wraps whatever denoiser the sampler calls, so every sampler honours it.
///
/// Matches: ComfyUI `comfy/samplers.py` `KSamplerX0Inpaint.__call__` (with
/// `BaseModel.scale_latent_inpaint`, i.e. `noise_scaling` without max_denoise) and the noise
/// `KSAMPLER.sample` gives it (the sampling noise, or for `ddim` a fresh draw from seed + 1).
public struct InpaintBlend {
    /// `[B, C, H, W]` like the latent: 1 denoises, 0 keeps the latent.
    public let mask: Tensor
    /// `1 − mask`, computed once as torch does.
    let keep: Tensor
    /// The latent as sampling sees it (scaled by `process_latent_in`).
    public let latent: Tensor
    public let noise: Tensor
    /// Changes the mask at each step, told the run's sigmas (the MODEL's `denoise_mask_function`).
    public var maskFunction: (DenoiseMaskFunction, sigmas: [Float])?

    public init(mask: Tensor, latent: Tensor, noise: Tensor) throws {
        guard mask.shape == latent.shape, noise.shape == latent.shape else {
            throw SamplingError(
                "noise mask \(mask.shape) and noise \(noise.shape) must match the latent \(latent.shape)")
        }
        (self.mask, self.latent, self.noise) = (mask, latent, noise)
        keep = mask.scaled(by: -1, adding: 1)
    }

    /// The denoiser with the masked blend before and after each model call.
    public func wrapping(_ denoiser: @escaping Denoiser, sampling: ModelSampling) -> Denoiser {
        { x, sigma in
            var (mask, keep) = (mask, keep)
            if let maskFunction {
                mask = try maskFunction.0(sigma, mask, maskFunction.sigmas, sampling)
                keep = mask.scaled(by: -1, adding: 1)
            }
            let renoised = try sampling.noiseScaling(sigma: sigma, noise: noise, latent: latent)
            let input = try x.multiplying(mask).adding(renoised.multiplying(keep))
            let out = try denoiser(input, sigma)
            return try out.multiplying(mask).adding(latent.multiplying(keep))
        }
    }

    /// A user's mask (`[H, W]`, `[B, H, W]` or `[B, 1, H, W]`) stretched over a latent of
    /// `shape`: bilinear to its size, repeated over its channels and batch.
    ///
    /// Matches: ComfyUI `comfy/sampler_helpers.py` `prepare_mask` → `comfy/utils.py` `reshape_mask`
    /// (`F.interpolate(mode="bilinear")`, then `repeat_to_batch_size`).
    public static func prepareMask(_ mask: Tensor, shape: [Int]) throws -> Tensor {
        guard shape.count == 4 else { throw SamplingError("a noise mask needs a [B, C, H, W] latent, got \(shape)") }
        guard mask.rank >= 2, mask.count > 0 else {
            throw SamplingError("a noise mask must be [H, W], [B, H, W] or [B, 1, H, W], got \(mask.shape)")
        }
        let (h, w) = (mask.dim(-2), mask.dim(-1))
        var planes = try mask.reshaped([mask.count / (h * w), 1, h, w])
            .resized(height: shape[2], width: shape[3], mode: .bilinear)
        if shape[1] > 1 { planes = try Tensor.concat(Array(repeating: planes, count: shape[1]), axis: 1) }
        return try planes.repeatedToBatch(shape[0])
    }
}
