import Foundation
import LatentflowTensor

/// A rectangle of the latent, in latent pixels (ComfyUI's `area`: h//8, w//8, y//8, x//8).
public typealias LatentArea = (height: Int, width: Int, y: Int, x: Int)

/// Classifier-free guidance on denoised predictions over area conditioning: each side's entries
/// are averaged over their areas, weighted by strength with feathered inner edges, then the
/// negative is pushed away from by the cfg scale; cfg ≈ 1 skips the negative side entirely.
/// It sees each entry only as a denoiser closure, never the model behind it.
///
/// Matches: ComfyUI `comfy/samplers.py` `sampling_function`, `calc_cond_batch`,
/// `get_area_and_mult` (8-pixel feathered area edges) and `cfg_function`.
public struct CFGGuidance {
    /// One conditioning entry as guidance sees it: its own denoiser, where it applies and how strongly.
    public struct Entry {
        /// (the area's region of x, σ) → the denoised region under this entry's conditioning.
        public let denoise: Denoiser
        /// Nil: the whole latent.
        public let area: LatentArea?
        public let strength: Double
        /// The sigmas this entry applies at: it is skipped above `startSigma` and below
        /// `endSigma` (ComfyUI's `timestep_start`/`timestep_end`, from `start_percent`/`end_percent`).
        public let startSigma: Float?
        public let endSigma: Float?
        /// A weight per latent pixel `[B, H, W]` at the latent's size (ComfyUI's resolved `mask`),
        /// scaled by `maskStrength`; it replaces the feathered area edges. Nil: none.
        public let mask: Tensor?
        public let maskStrength: Double
        /// A default entry (ComfyUI's `default` cond): it covers the whole latent, weighted by what
        /// the side's other active entries leave of 1 (`finalize_default_conds`), and runs only
        /// where that is above 0.
        public let isDefault: Bool

        public init(
            area: LatentArea?, strength: Double, startSigma: Float? = nil, endSigma: Float? = nil,
            mask: Tensor? = nil, maskStrength: Double = 1, isDefault: Bool = false, denoise: @escaping Denoiser
        ) {
            (self.area, self.strength, self.denoise) = (area, strength, denoise)
            (self.startSigma, self.endSigma) = (startSigma, endSigma)
            (self.mask, self.maskStrength, self.isDefault) = (mask, maskStrength, isDefault)
        }

        /// Whether sampling at `sigma` uses this entry (`get_area_and_mult`'s timestep checks).
        public func isActive(at sigma: Float) -> Bool {
            if let start = startSigma, sigma > start { return false }
            if let end = endSigma, sigma < end { return false }
            return true
        }
    }

    public let positive: [Entry]
    public let negative: [Entry]
    public let cfg: Double
    /// The MODEL's guidance patches (RescaleCFG, CFGZeroStar, …), in the order they were applied.
    public var hooks = GuidanceHooks()

    public init(positive: [Entry], negative: [Entry], cfg: Double, hooks: GuidanceHooks = GuidanceHooks()) {
        (self.positive, self.negative, self.cfg, self.hooks) = (positive, negative, cfg, hooks)
    }

    /// Python's `math.isclose(cfg, 1.0)`: the negative side is then not computed.
    public static func isUnitScale(_ cfg: Double) -> Bool { abs(cfg - 1) <= 1e-9 * max(1, abs(cfg)) }

    /// The guided denoised prediction: uncond + (cond − uncond)·cfg, through the hooks.
    public func denoise(_ x: Tensor, sigma: Float) throws -> Tensor {
        try guided(x, sigma: sigma, alwaysUnconditional: false).denoised
    }

    /// The guided prediction with the unconditional one (after the pre-CFG hooks, as ComfyUI's
    /// post-CFG functions see `uncond_denoised`), for the CFG++ samplers: the negative side runs
    /// even at cfg 1 (their `disable_cfg1_optimization`).
    public func denoiseWithUnconditional(_ x: Tensor, sigma: Float) throws -> (denoised: Tensor, unconditional: Tensor)
    {
        try guided(x, sigma: sigma, alwaysUnconditional: true)
    }

    private func guided(_ x: Tensor, sigma: Float, alwaysUnconditional: Bool) throws
        -> (denoised: Tensor, unconditional: Tensor)
    {
        let cond = try Self.predict(positive, x, sigma)
        let skipUncond = Self.isUnitScale(cfg) && !hooks.disableCFG1Optimization && !alwaysUnconditional
        if skipUncond, hooks.isEmpty { return (cond, Tensor(shape: x.shape)) }
        let uncond = skipUncond ? Tensor(shape: x.shape) : try Self.predict(negative, x, sigma)
        let predictions = try hooks.applyPreCFG(
            CFGPredictions(x: x, sigma: sigma, cfg: cfg, cond: cond, uncond: uncond, uncondSkipped: skipUncond))
        return (try hooks.applyPostCFG(predictions, denoised: hooks.combine(predictions)), predictions.uncond)
    }

    /// The strength-weighted average of every entry's denoised prediction over its area (one side
    /// of ComfyUI's `calc_cond_batch`); with no active entry, zeros.
    public static func predict(_ entries: [Entry], _ x: Tensor, _ sigma: Float) throws -> Tensor {
        // Entries outside their timestep range count as absent; with none left the side predicts 0.
        let active = entries.filter { $0.isActive(at: sigma) }
        if active.count == 1, active[0].area == nil, active[0].mask == nil {
            return try active[0].denoise(x, sigma)  // output·s / s
        }
        let (n, c, h, w) = (x.dim(0), x.dim(1), x.dim(2), x.dim(3))
        var weighted = try active.filter { !$0.isDefault }.map { try weightedRegion($0, batch: n, height: h, width: w) }
        let defaults = active.filter(\.isDefault)
        if !defaults.isEmpty, let remainder = remainingWeight(weighted, batch: n, height: h, width: w) {
            for entry in defaults {
                guard entry.area == nil else {
                    throw SamplingError("a default conditioning entry cannot have an area (it covers the whole latent)")
                }
                weighted.append((entry, (height: h, width: w, y: 0, x: 0), remainder))
            }
        }
        var sum = Tensor(shape: x.shape), count = Tensor(shape: x.shape)
        for (entry, area, weights) in weighted {
            let (ay, ax, ah, aw) = (area.y, area.x, area.height, area.width)
            let region = try x.slice(axis: 2, start: ay, length: ah).slice(axis: 3, start: ax, length: aw)
            let output = try entry.denoise(region, sigma)
            sum.withUnsafeMutableBufferPointer { s in
                count.withUnsafeMutableBufferPointer { k in
                    for b in 0..<n {
                        let plane = weights[b % weights.count]
                        for ch in 0..<c {
                            for y in 0..<ah {
                                for xx in 0..<aw {
                                    let weight = plane[y * aw + xx]
                                    let target = ((b * c + ch) * h + ay + y) * w + ax + xx
                                    s[target] += output.scalars[((b * c + ch) * ah + y) * aw + xx] * weight
                                    k[target] += weight
                                }
                            }
                        }
                    }
                }
            }
        }
        return try sum.dividing(count.scaled(by: 1, adding: 1e-37))
    }

    /// An entry's region of the latent, clamped to it, and its weights there: one plane per
    /// sample (the mask's), or one for all (`get_area_and_mult`'s `mult`).
    static func weightedRegion(
        _ entry: Entry, batch n: Int, height h: Int, width w: Int
    ) throws -> (Entry, LatentArea, [[Float]]) {
        let area = entry.area ?? (height: h, width: w, y: 0, x: 0)
        let ay = min(area.y, h - 1), ax = min(area.x, w - 1)
        let ah = min(area.height, h - ay), aw = min(area.width, w - ax)
        let region = (height: ah, width: aw, y: ay, x: ax)
        if let mask = entry.mask {
            let weights = try maskWeights(
                mask, batch: n, area: region, maskStrength: entry.maskStrength, strength: entry.strength)
            return (entry, region, weights)
        }
        let weights = featheredWeights(
            height: ah, width: aw, strength: Float(entry.strength), feather: entry.area != nil, top: ay != 0,
            bottom: ay + ah < h, left: ax != 0, right: ax + aw < w)
        return (entry, region, [weights])
    }

    /// `finalize_default_conds`: 1 minus every weight placed on the latent, floored at 0, one
    /// plane per sample; nil when nothing is left anywhere (the default entries then do not run).
    static func remainingWeight(
        _ weighted: [(Entry, LatentArea, [[Float]])], batch n: Int, height h: Int, width w: Int
    ) -> [[Float]]? {
        var planes = [[Float]](repeating: [Float](repeating: 1, count: h * w), count: n)
        for (_, area, weights) in weighted {
            for b in 0..<n {
                let plane = weights[b % weights.count]
                for y in 0..<area.height {
                    for x in 0..<area.width {
                        planes[b][(area.y + y) * w + area.x + x] -= plane[y * area.width + x]
                    }
                }
            }
        }
        var anyLeft = false
        for b in 0..<n {
            for i in 0..<(h * w) {
                planes[b][i] = max(0, planes[b][i])
                if planes[b][i] > 0 { anyLeft = true }
            }
        }
        return anyLeft ? planes : nil
    }

    /// `get_area_and_mult`'s masked multiplier: the mask's first `batch` planes cropped to the
    /// area, `(mask · maskStrength) · strength` in float32, one plane per sample (the planes
    /// repeat when the mask batch divides the latent batch).
    static func maskWeights(
        _ mask: Tensor, batch: Int, area: LatentArea, maskStrength: Double, strength: Double
    ) throws -> [[Float]] {
        let (planes, h, w) = (min(mask.dim(0), batch), mask.dim(1), mask.dim(2))
        guard mask.rank == 3, planes > 0, batch % planes == 0, area.y + area.height <= h, area.x + area.width <= w
        else {
            throw SamplingError(
                "conditioning mask \(mask.shape) does not fit a latent batch of \(batch) with area \(area)")
        }
        let (scale, weight) = (Float(maskStrength), Float(strength))
        return mask.withUnsafeBufferPointer { m in
            (0..<planes).map { b in
                var plane = [Float](repeating: 0, count: area.height * area.width)
                for y in 0..<area.height {
                    for x in 0..<area.width {
                        plane[y * area.width + x] = m[(b * h + area.y + y) * w + area.x + x] * scale * weight
                    }
                }
                return plane
            }
        }
    }

    /// ComfyUI's area multiplier: strength, fading linearly at inner edges over
    /// `min(8, side / 4)` pixels (`fuzz`).
    static func featheredWeights(
        height: Int, width: Int, strength: Float, feather: Bool,
        top: Bool, bottom: Bool, left: Bool, right: Bool
    ) -> [Float] {
        var weights = [Float](repeating: strength, count: height * width)
        guard feather else { return weights }
        // Python computes (1/rr)·(t+1) in double; torch rounds it to float32 for the multiply.
        func factor(_ t: Int, _ rr: Int) -> Float { Float(1.0 / Double(rr) * Double(t + 1)) }
        let rows = min(8, height / 4), columns = min(8, width / 4)
        for t in 0..<rows {
            for x in 0..<width {
                if top { weights[t * width + x] *= factor(t, rows) }
                if bottom { weights[(height - 1 - t) * width + x] *= factor(t, rows) }
            }
        }
        for t in 0..<columns {
            for y in 0..<height {
                if left { weights[y * width + t] *= factor(t, columns) }
                if right { weights[y * width + width - 1 - t] *= factor(t, columns) }
            }
        }
        return weights
    }
}

extension ModelSampling {
    /// The sigma at a fraction of the schedule, for conditioning timestep ranges (ComfyUI
    /// `ModelSamplingDiscrete.percent_to_sigma`): 0 is above every sigma, 1 below every sigma,
    /// else the table's sigma at timestep (1 − p)·999.
    public func percentToSigma(_ percent: Double) -> Float {
        if percent <= 0 { return 999_999_999.9 }
        if percent >= 1 { return 0 }
        if continuous != nil {
            // Log-linear between the table's ends, in Python floats.
            let logMin = Foundation.log(Double(sigmaMin))
            return Float(Foundation.exp((Foundation.log(Double(sigmaMax)) - logMin) * (1.0 - percent) + logMin))
        }
        return sigma(Float((1.0 - percent) * 999.0))
    }
}
