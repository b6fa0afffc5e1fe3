import Foundation
import LatentflowTensor

/// The guidance hooks of ComfyUI's guidance nodes, as functions of the predictions. Each works
/// per sample of the batch (dimension 0) unless it says otherwise.
public enum GuidanceFunctions {
    /// RescaleCFG's cfg function: CFG on v-prediction outputs, its standard deviation rescaled to
    /// the positive's, blended by `multiplier`; returns the denoised result.
    ///
    /// Matches: ComfyUI `comfy_extras/nodes_model_advanced.py` `RescaleCFG.patch.rescale_cfg`
    /// (which receives and returns noise, x − denoised; `cfg_function` turns it back).
    public static func rescaleCFG(_ p: CFGPredictions, multiplier: Double) throws -> Tensor {
        let sigma = p.sigma, xOrig = p.x
        let s2 = sigma * sigma + 1
        let x = xOrig.scaled(by: 1 / s2)
        // v = (x − (x_orig − noise))·√(σ²+1)/σ, with noise = x_orig − denoised.
        func v(_ denoised: Tensor) throws -> Tensor {
            try x.subtracting(xOrig.subtracting(xOrig.subtracting(denoised))).scaled(by: s2.squareRoot() / sigma)
        }
        let cond = try v(p.cond), uncond = try v(p.uncond)
        let xCFG = try uncond.adding(cond.subtracting(uncond).scaled(by: Float(p.cfg)))
        let ratio = try perSample(standardDeviation(cond), xCFG).dividing(perSample(standardDeviation(xCFG), xCFG))
        let rescaled = try xCFG.multiplying(ratio)
        let m = Float(multiplier)
        let final = try rescaled.scaled(by: m).adding(xCFG.scaled(by: 1 - m))
        let noise = try xOrig.subtracting(x.subtracting(final.scaled(by: sigma / s2.squareRoot())))
        return try xOrig.subtracting(noise)
    }

    /// CFGZeroStar's post-CFG function: the negative scaled by the optimal α = ⟨ε_c, ε_u⟩/‖ε_u‖²
    /// of the noise predictions.
    ///
    /// Matches: ComfyUI `comfy_extras/nodes_cfg.py` `optimized_scale`, `CFGZeroStar.cfg_zero_star`.
    public static func cfgZeroStar(_ p: CFGPredictions, denoised: Tensor) throws -> Tensor {
        let positive = try p.x.subtracting(p.cond), negative = try p.x.subtracting(p.uncond)
        let n = positive.dim(0), size = positive.count / max(n, 1)
        var alpha = [Float](repeating: 0, count: n)
        for b in 0..<n {
            var dot: Float = 0, squared: Float = 0
            for i in b * size..<(b + 1) * size {
                dot += positive.scalars[i] * negative.scalars[i]
                squared += negative.scalars[i] * negative.scalars[i]
            }
            alpha[b] = dot / (squared + 1e-8)
        }
        let a = try perSample(alpha, denoised)
        let cfg = Float(p.cfg)
        // out + uncond·(α − 1) + cfg·uncond·(1 − α)
        return try denoised.adding(p.uncond.multiplying(a.scaled(by: 1, adding: -1)))
            .adding(p.uncond.scaled(by: cfg).multiplying(a.scaled(by: -1, adding: 1)))
    }

    /// CFGNorm's post-CFG function: where the guided prediction's channel norm exceeds the
    /// positive's, scale it down to it (never up), then by `strength`.
    ///
    /// Matches: ComfyUI `comfy_extras/nodes_cfg.py` `CFGNorm.cfg_norm`.
    public static func cfgNorm(_ p: CFGPredictions, denoised: Tensor, strength: Double) throws -> Tensor {
        let condNorm = channelNorm(p.cond), predNorm = channelNorm(denoised)
        let scale = try condNorm.dividing(predNorm.scaled(by: 1, adding: 1e-8)).clamped(min: 0, max: 1)
        return try denoised.multiplying(scale).scaled(by: Float(strength))
    }

    /// TCFG's pre-CFG function: the negative's noise prediction keeps only its component along
    /// the first right-singular vector of [ε_u; ε_c]; skipped when either side was not computed.
    ///
    /// Matches: ComfyUI `comfy_extras/nodes_tcfg.py` `score_tangential_damping`,
    /// `TCFG.tangential_damping_cfg`.
    public static func tangentialDamping(_ p: CFGPredictions) throws -> CFGPredictions {
        if p.uncondSkipped { return p }
        let cond = try p.x.subtracting(p.cond), uncond = try p.x.subtracting(p.uncond)
        let n = cond.dim(0), size = cond.count / max(n, 1)
        var damped = [Float](repeating: 0, count: uncond.count)
        for b in 0..<n {
            let range = b * size..<(b + 1) * size
            let v = firstRightSingularVector(Array(uncond.scalars[range]), Array(cond.scalars[range]))
            var projection: Double = 0
            for (j, i) in range.enumerated() { projection += Double(uncond.scalars[i]) * v[j] }
            for (j, i) in range.enumerated() { damped[i] = Float(projection * v[j]) }
        }
        var result = p
        result.uncond = try p.x.subtracting(Tensor(shape: uncond.shape, scalars: damped))
        return result
    }

    /// Epsilon Scaling's post-CFG function: the noise prediction divided by `scalingFactor`.
    ///
    /// Matches: ComfyUI `comfy_extras/nodes_eps.py` `EpsilonScaling.epsilon_scaling_function`.
    public static func epsilonScaling(_ p: CFGPredictions, denoised: Tensor, scalingFactor: Double) throws -> Tensor {
        let factor = scalingFactor == 0 ? 1e-9 : scalingFactor
        return try p.x.subtracting(p.x.subtracting(denoised).scaled(by: Float(1 / factor)))
    }

    /// The first right-singular vector of the 2×N matrix [a; b]: from the top eigenvector u of
    /// its 2×2 Gram matrix, v = Aᵀu/‖Aᵀu‖ (its sign does not matter to the projection).
    static func firstRightSingularVector(_ a: [Float], _ b: [Float]) -> [Double] {
        var aa: Double = 0, ab: Double = 0, bb: Double = 0
        for i in a.indices {
            let (x, y) = (Double(a[i]), Double(b[i]))
            aa += x * x
            ab += x * y
            bb += y * y
        }
        // Largest eigenvalue of [[aa, ab], [ab, bb]] and its eigenvector.
        let half = (aa - bb) / 2
        let lambda = (aa + bb) / 2 + (half * half + ab * ab).squareRoot()
        var u = abs(ab) > 0 ? (lambda - bb, ab) : (aa >= bb ? (1.0, 0.0) : (0.0, 1.0))
        let uNorm = (u.0 * u.0 + u.1 * u.1).squareRoot()
        u = (u.0 / uNorm, u.1 / uNorm)
        var v = a.indices.map { u.0 * Double(a[$0]) + u.1 * Double(b[$0]) }
        let vNorm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        if vNorm > 0 { v = v.map { $0 / vNorm } }
        return v
    }

    /// `torch.std(t, dim=(1,2,3))` (Bessel-corrected) per sample.
    static func standardDeviation(_ t: Tensor) -> [Float] {
        let n = t.dim(0), size = t.count / max(n, 1)
        return (0..<n).map { b in
            let values = t.scalars[b * size..<(b + 1) * size]
            let mean = values.reduce(0.0) { $0 + Double($1) } / Double(size)
            let squares = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) }
            return Float((squares / Double(max(size - 1, 1))).squareRoot())
        }
    }

    /// One value per sample, broadcast as `[N, 1, 1, 1]` against `like`.
    static func perSample(_ values: [Float], _ like: Tensor) throws -> Tensor {
        try Tensor(shape: [values.count] + Array(repeating: 1, count: like.rank - 1), scalars: values)
    }

    /// `torch.norm(t, dim=1, keepdim=True)`: the Euclidean norm over channels, `[N, 1, H, W]`.
    static func channelNorm(_ t: Tensor) -> Tensor {
        let (n, c) = (t.dim(0), t.dim(1))
        let plane = t.count / max(n * c, 1)
        var shape = t.shape
        shape[1] = 1
        return Tensor(shape: shape) { out in
            for b in 0..<n {
                for i in 0..<plane {
                    var sum: Float = 0
                    for ch in 0..<c {
                        let value = t.scalars[(b * c + ch) * plane + i]
                        sum += value * value
                    }
                    out[b * plane + i] = sum.squareRoot()
                }
            }
        }
    }
}
