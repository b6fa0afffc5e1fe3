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
    /// The guidance: standard CFG, or PerpNegGuider's, inside the MODEL's prediction wrappers.
    var guided: Denoiser
    /// The guided and the unconditional prediction, for the CFG++ samplers (standard CFG only).
    var guidedWithUnconditional: ((Tensor, Float) throws -> (denoised: Tensor, unconditional: Tensor))?

    /// - Parameter inpaint: for inpainting UNets, what their extra input channels are built from.
    /// - Parameter perpNeg: PerpNegGuider's empty conditioning and negative scale.
    /// - Parameter dualCFG: DualCFGGuider's second prompt (its conditioning with resolved areas).
    /// - Parameter sampleSigmas: the run's sigmas, for the keyframes of hooked entries.
    init(
        model: DiffusionModel, positive: Conditioning, negative: Conditioning, cfg: Double,
        inpaint: InpaintConcat? = nil, perpNeg: (empty: Conditioning, negScale: Double)? = nil,
        dualCFG: DualCFGSettings? = nil, seed: UInt64 = 0, sampleSigmas: [Float] = [],
        warn: @escaping (String) -> Void = { _ in }
    ) throws {
        let controls = ControlEvaluator(sampling: model.sampling, warn: warn)
        let hooked = HookedUNets(model: model, sampleSigmas: sampleSigmas)
        let cache = model.easyCache.map { $0.cache(model.sampling, log: warn) }
        // `firstCacheEntry`: the EasyCache id of the first entry, the ids following ComfyUI's conds order;
        // nil for the calls guidance patches make, which bypass the cache.
        func entries(
            _ conditioning: Conditioning, _ middleSelfAttention: AttentionReplacement? = nil,
            firstCacheEntry: Int? = nil
        ) throws -> [CFGGuidance.Entry] {
            try conditioning.entries.enumerated().map { index, entry in
                let cached = firstCacheEntry.flatMap { first in cache.map { (cache: $0, entry: first + index) } }
                let concat = try inpaint?.channels(for: entry)
                // An unCLIP UNet's `y`, fixed for the whole run (ComfyUI's `encode_adm` under `seed`).
                let y =
                    model.unet.config.admInChannels == nil || entry.unclip.isEmpty
                    ? nil : try UnCLIPNoiseAugmentation.adm(entry.unclip, seed: seed)
                return CFGGuidance.Entry(
                    area: entry.area, strength: entry.strength,
                    startSigma: entry.sampledStartPercent.map(model.sampling.percentToSigma),
                    endSigma: entry.sampledEndPercent.map(model.sampling.percentToSigma),
                    mask: entry.mask, maskStrength: entry.maskStrength, isDefault: entry.isDefault
                ) { x, sigma in
                    // `get_area_and_mult`: GLIGEN's boxes are fractions of this entry's (area's) latent.
                    let grounding = try entry.gligen.map {
                        try $0.model.grounding($0.boxes, height: x.dim(2), width: x.dim(3))
                    }
                    // A hooked entry runs on its hooks' weights at this step's keyframe strengths.
                    var entryModel = model
                    if !entry.hooks.isEmpty { entryModel.unet = try hooked.unet(for: entry.hooks, at: sigma) }
                    return try Self.denoised(
                        entryModel, entry.embedding, x, sigma,
                        concat: concat.map { try Self.region($0, of: x, area: entry.area) }, y: y,
                        control: entry.control,
                        controlContext: entry.controlContext, controls, patch: grounding,
                        middleSelfAttention: middleSelfAttention, cache: cached)
                }
            }
        }
        let negative = negative.withUncondControls(from: positive)
        let run = GuidanceRun(positive: positive, negative: negative) { try entries($0, $1) }
        let hooks = try model.guidanceHooks(run)
        // The run's negative calls, with a patch's replacement of their middle self-attention (SAG).
        // EasyCache ids in the order of ComfyUI's conds: [positive, negative(, empty)]; DualCFGGuider's
        // [negative, middle, positive].
        let (p, n) = (positive.entries.count, negative.entries.count)
        if let dualCFG {
            let m = dualCFG.middle.entries.count
            // The second prompt is not a negative to ComfyUI's `apply_empty_x_to_equal_area`: no uncond controls.
            let guidance = DualCFGGuidance(
                positive: try entries(positive, firstCacheEntry: n + m),
                middle: try entries(dualCFG.middle, firstCacheEntry: n),
                negative: try entries(negative, run.negativeAttention.replacement, firstCacheEntry: 0),
                cfgConds: cfg, cfgMiddleNegative: dualCFG.cfgMiddleNegative, nested: dualCFG.nested, hooks: hooks)
            guided = { try guidance.denoise($0, sigma: $1) }
            guidedWithUnconditional = { try guidance.denoiseWithUnconditional($0, sigma: $1) }
        } else if let perpNeg {
            let guidance = PerpNegGuidance(
                positive: try entries(positive, firstCacheEntry: 0),
                negative: try entries(negative, run.negativeAttention.replacement, firstCacheEntry: p),
                empty: try entries(perpNeg.empty, firstCacheEntry: p + n),
                cfg: cfg, negScale: perpNeg.negScale, hooks: hooks)
            guided = { try guidance.denoise($0, sigma: $1) }
            guidedWithUnconditional = nil
        } else {
            let guidance = CFGGuidance(
                positive: try entries(positive, firstCacheEntry: 0),
                negative: try entries(negative, run.negativeAttention.replacement, firstCacheEntry: p), cfg: cfg,
                hooks: hooks)
            guided = { try guidance.denoise($0, sigma: $1) }
            guidedWithUnconditional = { try guidance.denoiseWithUnconditional($0, sigma: $1) }
        }
        if let cache {
            // A guided prediction is one `calc_cond_batch`: EasyCache's step.
            let (plain, withUnconditional) = (guided, guidedWithUnconditional)
            guided = { x, sigma in
                try cache.beginStep()
                return try plain(x, sigma)
            }
            guidedWithUnconditional = withUnconditional.map { inner in
                { (x: Tensor, sigma: Float) in
                    try cache.beginStep()
                    return try inner(x, sigma)
                }
            }
        }
        guided = model.predictionWrappers.reduce(guided) { inner, wrapper in wrapper.wrap(inner, model.sampling) }
    }

    /// The part of whole-latent `concat` channels under an area entry's region `x` (placed as
    /// `CFGGuidance` places it), as ComfyUI's `CONDNoiseShape.process_cond` crops them.
    static func region(_ concat: Tensor, of x: Tensor, area: LatentArea?) throws -> Tensor {
        guard let area else { return concat }
        let y = min(area.y, concat.dim(2) - 1), left = min(area.x, concat.dim(3) - 1)
        return try concat.slice(axis: 2, start: y, length: x.dim(2)).slice(axis: 3, start: left, length: x.dim(3))
    }

    func denoise(_ x: Tensor, sigma: Float) throws -> Tensor { try guided(x, sigma) }

    /// One UNet call: input scaling, quantized timestep, the text context repeated per sample.
    /// `concat`: an inpainting UNet's mask and masked-image channels, appended to its input.
    /// With a `control` chain, its residuals go into the same call (`calc_cond_batch` per cond chunk);
    /// `patch` (GLIGEN's grounding) runs in the UNet's transformer blocks; `middleSelfAttention` replaces
    /// the middle block's self-attention (PAG); `y` is an unCLIP UNet's `[1, adm]` class input; `cache`
    /// (EasyCache, with this entry's id) may answer the UNet call from its cached differences. `controlContext` (CLIPTextEncodeControlnet's tokens)
    /// replaces the text context for the controls only, as ComfyUI's `ControlNet.get_control` reads
    /// `crossattn_controlnet` before `c_crossattn`.
    static func denoised(
        _ model: DiffusionModel, _ embedding: Tensor, _ x: Tensor, _ sigma: Float, concat: Tensor? = nil,
        y: Tensor? = nil, control: ControlApplication? = nil, controlContext: Tensor? = nil,
        _ controls: ControlEvaluator? = nil,
        patch: (any TransformerMiddlePatch)? = nil, middleSelfAttention: AttentionReplacement? = nil,
        cache: (cache: EasyCache, entry: Int)? = nil
    ) throws -> Tensor {
        let sampling = model.sampling
        var input = sampling.calculateInput(sigma: sigma, x)
        if let concat { input = try Tensor.concat([input, concat], axis: 1) }
        let n = x.dim(0)
        func perSample(_ tokens: Tensor) throws -> Tensor {
            n == 1 ? tokens : try Tensor.concat(Array(repeating: tokens, count: n), axis: 0)
        }
        let context = try perSample(embedding)
        let residuals = try control.flatMap {
            try controls?.residuals($0, x: x, sigma: sigma, context: try controlContext.map(perSample) ?? context)
        }
        let y = try y.map(perSample)
        func unet(_ input: Tensor) throws -> Tensor {
            try ProductPrecision.$current.withValue(model.computePrecision) {
                try model.unet(
                    input, timesteps: Array(repeating: sampling.timestep(sigma), count: n),
                    context: context, y: y, guidance: model.lcmGuidance, control: residuals,
                    controlMismatch: controls?.mismatch,
                    patch: patch, patches: model.patches, sigma: sigma, middleSelfAttention: middleSelfAttention)
            }
        }
        // EasyCache wraps the UNet itself (a `DIFFUSION_MODEL` wrapper): its input and raw output.
        let output =
            try cache.map { try $0.cache.forward(entry: $0.entry, input: input, sigma: sigma, unet) } ?? unet(input)
        return try sampling.calculateDenoised(sigma: sigma, modelOutput: output, input: x)
    }
}
