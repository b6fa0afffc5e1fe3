import Foundation
import LatentflowTensor

/// UniPC (bh1 and bh2): a multistep predictor–corrector in the variance-preserving frame, with
/// data (x0) prediction, order up to 3, lower orders at the start and at the end, and no
/// corrector on the final step. Scalars are float32 as ComfyUI's 0-dim tensors are.
///
/// Matches: ComfyUI `comfy/extra_samplers/uni_pc.py` (`sample_unipc`, `SigmaConvert`,
/// `predict_eps_sigma`, `UniPC.sample` with method "multistep", `multistep_uni_pc_bh_update`
/// with predict_x0), from Zhao et al., "UniPC" (2023).
struct UniPC: SamplerAlgorithm {
    /// B(h) = h (bh1) or eʰ − 1 (bh2).
    enum Variant { case bh1, bh2 }
    let variant: Variant

    var names: [SamplerName] { variant == .bh1 ? [.uniPC] : [.uniPCBH2] }
    var discardsPenultimateSigma: Bool { true }

    /// `SigmaConvert`: the VP schedule seen through σ, with log α = ½·log(1 / (σ² + 1)).
    private struct VPSchedule {
        static func logAlpha(_ sigma: Float) -> Float { 0.5 * logf(1 / (sigma * sigma + 1)) }
        static func alpha(_ sigma: Float) -> Float { expf(logAlpha(sigma)) }
        static func std(_ sigma: Float) -> Float { (1 - expf(2 * logAlpha(sigma))).squareRoot() }
        static func lambda(_ sigma: Float) -> Float {
            let logMean = logAlpha(sigma)
            return logMean - 0.5 * logf(1 - expf(2 * logMean))
        }
    }

    func sample(
        denoiser: Denoiser, x start: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        var times = sigmas
        if times.last == 0 { times[times.count - 1] = 0.001 }
        let steps = times.count - 1
        let order = min(3, times.count - 2)

        /// The data prediction at VP-frame x: the k-diffusion denoiser on x·sqrt(σ² + 1), turned
        /// into ε and back into x0 as `predict_eps_sigma` and `data_prediction_fn` do.
        func predictData(_ x: Tensor, _ sigma: Float) throws -> Tensor {
            let input = x.scaled(by: (sigma * sigma + 1).squareRoot())
            let eps = try input.subtracting(denoiser(input, sigma)).dividing(Samplers.scalar(sigma))
            return try x.subtracting(eps.scaled(by: VPSchedule.std(sigma)))
                .dividing(Samplers.scalar(VPSchedule.alpha(sigma)))
        }

        var x = try start.dividing(Samplers.scalar((1 + times[0] * times[0]).squareRoot()))
        var models = [try predictData(x, times[0])]
        var previousTimes = [times[0]]
        try onStep(1, steps, models[0])
        if steps > 1 {
            for stepIndex in 1..<steps {
                if stepIndex < order {
                    let t = times[stepIndex]
                    let (next, model) = try Self.update(
                        variant, x, models: models, times: previousTimes, t: t,
                        order: stepIndex, useCorrector: true, predict: predictData)
                    x = next
                    models.append(try model ?? predictData(x, t))
                    previousTimes.append(t)
                } else {
                    for step in stepIndex...(stepIndex == steps - 1 ? stepIndex + 1 : stepIndex) {
                        let t = times[step]
                        let stepOrder = min(order, steps + 1 - step)
                        let (next, model) = try Self.update(
                            variant, x, models: models, times: previousTimes, t: t,
                            order: stepOrder, useCorrector: step != steps,
                            predict: predictData)
                        x = next
                        models = Array(models.dropFirst()) + [models[models.count - 1]]
                        previousTimes = Array(previousTimes.dropFirst()) + [t]
                        if step < steps { models[models.count - 1] = try model ?? predictData(x, t) }
                    }
                }
                try onStep(stepIndex + 1, steps, models[models.count - 1])
            }
        }
        return try x.dividing(Samplers.scalar(VPSchedule.alpha(times[steps])))
    }

    /// `multistep_uni_pc_bh_update` with data prediction: `models` and `times` oldest first.
    private static func update(
        _ variant: Variant, _ x: Tensor, models: [Tensor], times: [Float], t: Float, order: Int,
        useCorrector: Bool,
        predict: (Tensor, Float) throws -> Tensor
    ) throws -> (Tensor, Tensor?) {
        let previousTime = times[times.count - 1], previousModel = models[models.count - 1]
        let lambdaPrevious = VPSchedule.lambda(previousTime), lambdaT = VPSchedule.lambda(t)
        let sigmaPrevious = VPSchedule.std(previousTime), sigmaT = VPSchedule.std(t)
        let alphaT = expf(VPSchedule.logAlpha(t))
        let h = lambdaT - lambdaPrevious

        var rks: [Float] = [], differences: [Tensor] = []
        if order > 1 {
            for i in 1..<order {
                let rk = (VPSchedule.lambda(times[times.count - 1 - i]) - lambdaPrevious) / h
                rks.append(rk)
                let difference = try models[models.count - 1 - i].subtracting(previousModel)
                differences.append(try difference.dividing(Samplers.scalar(rk)))
            }
        }
        rks.append(1)

        let hh = -h
        let hPhi1 = expm1f(hh)
        var hPhiK = hPhi1 / hh - 1
        var factorial: Float = 1
        let bH = variant == .bh1 ? hh : expm1f(hh)
        var matrix: [[Float]] = [], b: [Float] = []
        for i in 1...order {
            matrix.append(rks.map { powf($0, Float(i - 1)) })
            b.append(hPhiK * factorial / bH)
            factorial *= Float(i + 1)
            hPhiK = hPhiK / hh - 1 / factorial
        }

        let base = try x.scaled(by: sigmaT / sigmaPrevious).subtracting(previousModel.scaled(by: alphaT * hPhi1))
        var predicted = base
        if !differences.isEmpty {
            let rhos =
                order == 2
                ? [Float(0.5)]
                : solve(
                    Array(matrix.prefix(order - 1).map { Array($0.prefix(order - 1)) }),
                    Array(b.prefix(order - 1)))
            predicted = try base.subtracting(weightedSum(differences, rhos).scaled(by: alphaT * bH))
        }
        guard useCorrector else { return (predicted, nil) }
        let model = try predict(predicted, t)
        let rhos = order == 1 ? [Float(0.5)] : solve(matrix, b)
        var correction = try model.subtracting(previousModel).scaled(by: rhos[rhos.count - 1])
        if !differences.isEmpty { correction = try weightedSum(differences, Array(rhos.dropLast())).adding(correction) }
        return (try base.subtracting(correction.scaled(by: alphaT * bH)), model)
    }

    private static func weightedSum(_ tensors: [Tensor], _ weights: [Float]) throws -> Tensor {
        var sum = tensors[0].scaled(by: weights[0])
        for (tensor, weight) in zip(tensors.dropFirst(), weights.dropFirst()) {
            sum = try sum.adding(tensor.scaled(by: weight))
        }
        return sum
    }

    /// A small dense solve by Gaussian elimination with partial pivoting (LAPACK's sgesv does the
    /// same for `torch.linalg.solve`).
    static func solve(_ matrix: [[Float]], _ rhs: [Float]) -> [Float] {
        var a = matrix, b = rhs
        let n = b.count
        for column in 0..<n {
            let pivot = (column..<n).max { abs(a[$0][column]) < abs(a[$1][column]) }!
            a.swapAt(column, pivot)
            b.swapAt(column, pivot)
            for row in (column + 1)..<n where a[column][column] != 0 {
                let factor = a[row][column] / a[column][column]
                for k in column..<n { a[row][k] -= factor * a[column][k] }
                b[row] -= factor * b[column]
            }
        }
        var x = [Float](repeating: 0, count: n)
        for row in stride(from: n - 1, through: 0, by: -1) {
            var value = b[row]
            for k in (row + 1)..<n { value -= a[row][k] * x[k] }
            x[row] = value / a[row][row]
        }
        return x
    }

}
