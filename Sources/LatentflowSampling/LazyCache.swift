import LatentflowTensor

/// LazyCache: skips whole guided model calls when the input has changed little since the last
/// computed one, reusing that call's output − input difference; one per sampling run.
///
/// The change rate of the output per unit change of the input (mean absolute values, on the
/// latents subsampled every 8th pixel) is learned from the last two computed calls; the
/// estimated output change accumulates over skipped calls until it reaches `threshold`. Only
/// calls at sigmas ≤ the start sigma may be skipped; calls at or below the end sigma are passed
/// through untouched.
///
/// Matches: ComfyUI `comfy_extras/nodes_easycache.py` `LazyCacheHolder` and
/// `lazycache_predict_noise_wrapper` (a `PREDICT_NOISE` wrapper: the whole CFG prediction).
public final class LazyCache {
    let threshold: Float, startSigma: Float, endSigma: Float
    let subsampleFactor = 8
    private var rate: Float?
    private var cumulative: Float = 0
    private var previousInput: Tensor?, previousOutput: Tensor?, previousOutputNorm: Float?
    private var cacheDifference: Tensor?
    private var shape: [Int]?
    /// Calls answered from the cache.
    public private(set) var skippedCalls = 0

    public init(threshold: Float, startSigma: Float, endSigma: Float) {
        (self.threshold, self.startSigma, self.endSigma) = (threshold, startSigma, endSigma)
    }

    /// `model(x)`, or x plus the cached difference when the estimated change stays under the threshold.
    public func denoise(_ x: Tensor, sigma: Float, _ model: (Tensor) throws -> Tensor) throws -> Tensor {
        guard sigma > endSigma else { return try model(x) }
        var inputChange: Float?
        if sigma <= startSigma {
            if let shape, shape != x.shape { reset() }  // `check_metadata`: a new shape starts over
            shape = x.shape
            if let previousInput {
                let change = try Self.meanAbs(subsampled(x).subtracting(previousInput))
                inputChange = change
                if let norm = previousOutputNorm, let rate, let cacheDifference {
                    cumulative += rate * change / norm
                    if cumulative < threshold {
                        skippedCalls += 1
                        return try x.adding(cacheDifference)
                    }
                    cumulative = 0
                }
            }
        }
        let output = try model(x)
        let outputSample = try subsampled(output)
        if previousOutputNorm != nil, let previousOutput, let inputChange {
            rate = try Self.meanAbs(outputSample.subtracting(previousOutput)) / inputChange
        }
        cacheDifference = try output.subtracting(x)
        previousInput = try subsampled(x)
        previousOutput = outputSample
        previousOutputNorm = Self.meanAbs(output)
        return output
    }

    /// ComfyUI's `reset`, which sets the rate to 0 (not unset) where it starts over.
    private func reset() {
        (rate, cumulative, previousInput, previousOutput, previousOutputNorm) = (0, 0, nil, nil, nil)
        (cacheDifference, shape, skippedCalls) = (nil, nil, 0)
    }

    /// `x[..., ::8, ::8]`.
    func subsampled(_ x: Tensor) throws -> Tensor { try everyNthPixel(x, factor: subsampleFactor) }

    static func meanAbs(_ x: Tensor) -> Float {
        x.scalars.isEmpty ? 0 : x.scalars.reduce(0) { $0 + abs($1) } / Float(x.count)
    }
}
