import LatentflowTensor

/// iPNDM: Adams–Bashforth over up to three earlier derivatives, with fixed weights (`ipndm`)
/// or weights recomputed from the actual sigma gaps (`ipndm_v`); the denoised prediction into 0.
///
/// Matches: ComfyUI `comfy/k_diffusion/sampling.py` `sample_ipndm` and `sample_ipndm_v` with
/// max_order 4.
struct IPNDM: SamplerAlgorithm {
    let variableStep: Bool

    var names: [SamplerName] { variableStep ? [.ipndmV] : [.ipndm] }

    func sample(
        denoiser: Denoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        var history: [Tensor] = []  // earlier derivatives, newest last
        return try Samplers.stepping(from: x, sigmas: sigmas, denoiser: denoiser, onStep: onStep) { step, x, denoised in
            let d = try Samplers.derivative(x, denoised, sigma: step.sigma)
            defer { history = Array((history + [d]).suffix(3)) }
            if step.next == 0 { return denoised }
            if variableStep { return try Self.variableWeightStep(x, d, history: history, sigmas: sigmas, i: step.i) }
            return try Self.fixedWeightStep(x, d, history: history, sigma: step.sigma, to: step.next)
        }
    }

    /// Fixed Adams–Bashforth weights (history oldest first).
    static func fixedWeightStep(
        _ x: Tensor, _ d: Tensor, history: [Tensor], sigma: Float,
        to next: Float
    ) throws -> Tensor {
        let combined: Tensor
        switch history.count {
        case 0: combined = d
        case 1: combined = try d.scaled(by: 3).subtracting(history[0]).scaled(by: 1 / 2)
        case 2:
            combined = try d.scaled(by: 23).subtracting(history[1].scaled(by: 16)).adding(history[0].scaled(by: 5))
                .scaled(by: 1 / 12)
        default:
            let h = history.suffix(3).map { $0 }
            combined = try d.scaled(by: 55).subtracting(h[2].scaled(by: 59)).adding(h[1].scaled(by: 37))
                .subtracting(h[0].scaled(by: 9)).scaled(by: 1 / 24)
        }
        return try x.adding(combined.scaled(by: next - sigma))
    }

    /// Adams–Bashforth weights from the actual sigma gaps (history oldest first).
    static func variableWeightStep(
        _ x: Tensor, _ d: Tensor, history: [Tensor], sigmas: [Float],
        i: Int
    ) throws -> Tensor {
        let t = sigmas
        let hn = t[i + 1] - t[i]
        let weights: [Float]
        switch history.count {
        case 0:
            weights = [1]
        case 1:
            let h1 = t[i] - t[i - 1]
            weights = [(2 + hn / h1) / 2, -(hn / h1) / 2]
        case 2:
            let h1 = t[i] - t[i - 1], h2 = t[i - 1] - t[i - 2]
            let temp = (1 - hn / (3 * (hn + h1)) * (hn * (hn + h1)) / (h1 * (h1 + h2))) / 2
            weights = [(2 + hn / h1) / 2 + temp, -(hn / h1) / 2 - (1 + h1 / h2) * temp, temp * h1 / h2]
        default:
            let h1 = t[i] - t[i - 1], h2 = t[i - 1] - t[i - 2], h3 = t[i - 2] - t[i - 3]
            let temp1 = (1 - hn / (3 * (hn + h1)) * (hn * (hn + h1)) / (h1 * (h1 + h2))) / 2
            let temp2 =
                ((1 - hn / (3 * (hn + h1))) / 2 + (1 - hn / (2 * (hn + h1))) * hn / (6 * (hn + h1 + h2)))
                * (hn * (hn + h1) * (hn + h1 + h2)) / (h1 * (h1 + h2) * (h1 + h2 + h3))
            let ratio = h1 * (h1 + h2) / (h2 * (h2 + h3))
            weights = [
                (2 + hn / h1) / 2 + temp1 + temp2,
                -(hn / h1) / 2 - (1 + h1 / h2) * temp1 - (1 + h1 / h2 + ratio) * temp2,
                temp1 * h1 / h2 + (h1 / h2 + ratio * (1 + h2 / h3)) * temp2,
                -temp2 * ratio * h1 / h2,
            ]
        }
        // weights[0] goes with d, weights[k] with the k-th newest earlier derivative.
        var combined = d.scaled(by: weights[0])
        for (k, weight) in weights.dropFirst().enumerated() {
            combined = try combined.adding(history[history.count - 1 - k].scaled(by: weight))
        }
        return try x.adding(combined.scaled(by: hn))
    }
}
