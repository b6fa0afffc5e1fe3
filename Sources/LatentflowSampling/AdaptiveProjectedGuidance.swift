import Foundation
import LatentflowTensor

/// Adaptive Projected Guidance (Sadat et al. 2024, arXiv:2410.02416): the guidance cond − uncond,
/// optionally averaged over steps (momentum) and capped in norm, is split into its part along the
/// positive prediction and the rest; the parallel part is scaled by `eta`. The positive becomes
/// uncond + that guidance + (cond − uncond) / cfg, which CFG's own combination then scales.
///
/// The running average lives as long as the patched MODEL, as ComfyUI's closure does, and starts
/// over when sigma rises (a new sampling run).
///
/// Matches: ComfyUI `comfy_extras/nodes_apg.py` `APG` (a `sampler_pre_cfg_function`) and `project`.
public final class AdaptiveProjectedGuidance: @unchecked Sendable {
    public let eta: Double, normThreshold: Double, momentum: Double
    private let lock = NSLock()
    private var runningAverage: Tensor?
    private var previousSigma: Float?

    public init(eta: Double, normThreshold: Double, momentum: Double) {
        (self.eta, self.normThreshold, self.momentum) = (eta, normThreshold, momentum)
    }

    /// The pre-CFG function: `p` with its positive replaced.
    public func apply(_ p: CFGPredictions) throws -> CFGPredictions {
        lock.lock()
        defer { lock.unlock() }
        if let previousSigma, p.sigma > previousSigma { runningAverage = nil }
        previousSigma = p.sigma
        var guidance = try p.cond.subtracting(p.uncond)
        if momentum != 0 {
            if let running = runningAverage { guidance = try running.scaled(by: Float(momentum)).adding(guidance) }
            runningAverage = guidance
        }
        if normThreshold > 0 {
            let norms = Self.sampleNorms(guidance)
            guidance = try Self.scaledPerSample(guidance) { min(1, Float(normThreshold) / norms[$0]) }
        }
        // `project`: the direction is the positive normalized per sample (F.normalize, eps 1e-12).
        let condNorms = Self.sampleNorms(p.cond)
        let direction = try Self.scaledPerSample(p.cond) { 1 / max(condNorms[$0], 1e-12) }
        let dots = Self.sampleSums(try guidance.multiplying(direction))
        let parallel = try Self.scaledPerSample(direction) { dots[$0] }
        let orthogonal = try guidance.subtracting(parallel)
        let modified = try orthogonal.adding(parallel.scaled(by: Float(eta)))
        var result = p
        result.cond = try p.uncond.adding(modified)
            .adding(p.cond.subtracting(p.uncond).dividing(Tensor(shape: [], repeating: Float(p.cfg))))
        return result
    }

    /// Σ over each sample's (C, H, W) values, accumulated in double.
    static func sampleSums(_ x: Tensor) -> [Float] {
        let n = x.dim(0), size = x.count / max(n, 1)
        return (0..<n).map { b in
            Float(x.scalars[b * size..<(b + 1) * size].reduce(0.0) { $0 + Double($1) })
        }
    }

    /// The L2 norm of each sample over (C, H, W).
    static func sampleNorms(_ x: Tensor) -> [Float] {
        let n = x.dim(0), size = x.count / max(n, 1)
        return (0..<n).map { b in
            Float(x.scalars[b * size..<(b + 1) * size].reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot())
        }
    }

    static func scaledPerSample(_ x: Tensor, _ factor: (Int) -> Float) throws -> Tensor {
        let n = x.dim(0), size = x.count / max(n, 1)
        var scalars = x.scalars
        for b in 0..<n {
            let f = factor(b)
            for i in b * size..<(b + 1) * size { scalars[i] *= f }
        }
        return try Tensor(shape: x.shape, scalars: scalars)
    }
}
