import LatentflowTensor

/// EasyCache: skips the UNet calls of a whole guided step when its input has changed little
/// since the last computed step, answering each conditioning entry's call from the cached
/// output − input differences; one per sampling run.
///
/// The change rate of the output per unit change of the input (mean absolute values, on the
/// first conditioning's UNet input and output subsampled every 8th pixel) is learned from the last
/// two computed steps; the estimated output change accumulates over skipped steps until it
/// reaches `threshold`. Only steps at sigmas ≤ the start sigma may be skipped; steps at or below
/// the end sigma are passed through untouched.
///
/// ComfyUI runs every entry of a step in one batched UNet call (on the CPU memory allows it);
/// Latentflow calls the UNet once per entry, so this class sees a step as `beginStep` followed by
/// one `forward` per entry and keeps ComfyUI's batch-level bookkeeping: the "first" conditioning
/// is the batch's first chunk at the first cached step (ComfyUI's batch is its conds in reverse,
/// so the highest entry id), the output norm is over the whole batch's output, and a skipped
/// call returns its input plus the sum of every entry's cached difference — ComfyUI adds each
/// chunk's `[1, …]` difference to the whole `[n, …]` batch, which broadcasts. Calls made by
/// guidance patches (SAG, PAG) do not pass through here.
///
/// Matches: ComfyUI `comfy_extras/nodes_easycache.py` `EasyCacheHolder`,
/// `easycache_forward_wrapper` (a `DIFFUSION_MODEL` wrapper: the UNet's own input and output) and
/// `easycache_calc_cond_batch_wrapper` (a new step clears the skip flag).
public final class EasyCache {
    let threshold: Float, startSigma: Float, endSigma: Float
    let subsampleFactor = 8
    let log: ((String) -> Void)?
    private var rate: Float?
    private var cumulative: Float = 0
    private var initialStep = true
    private var firstEntry: Int?
    private var previousInput: Tensor?, previousOutput: Tensor?, previousOutputNorm: Float?
    private var differences: [Int: Tensor] = [:]
    private var metadata: [Int]?
    /// The step in progress: whether its decision is made, whether it skips, whether it updates the
    /// state (the first conditioning is known), its input change and its computed calls.
    private var decided = false, skipping = false, updating = false, choosesFirstEntry = false
    private var inputChange: Float?
    private var calls: [(entry: Int, input: Tensor, output: Tensor)] = []
    /// The entries of the last computed step (ComfyUI's `uuids` of the batch).
    private var batchEntries: [Int] = []
    /// Steps answered from the cache.
    public private(set) var skippedSteps = 0

    /// - Parameter log: when set (the node's `verbose`), told about every skipped step.
    public init(threshold: Float, startSigma: Float, endSigma: Float, log: ((String) -> Void)? = nil) {
        (self.threshold, self.startSigma, self.endSigma, self.log) = (threshold, startSigma, endSigma, log)
    }

    /// Starts a guided step (ComfyUI's `calc_cond_batch`): the previous step's outputs become the state.
    public func beginStep() throws {
        try finishStep()
        (decided, skipping, updating, choosesFirstEntry, inputChange) = (false, false, false, false, nil)
        calls = []
    }

    /// One entry's UNet call on `input` (its scaled latent, with any concat channels) at `sigma`:
    /// `model(input)`, or `input` plus the cached differences on a skipped step.
    public func forward(entry: Int, input: Tensor, sigma: Float, _ model: (Tensor) throws -> Tensor) throws -> Tensor {
        guard sigma > endSigma else { return try model(input) }
        if !decided {
            decided = true
            try decide(input, sigma: sigma)
        }
        if skipping, batchEntries.contains(entry), batchEntries.allSatisfy({ differences[$0] != nil }) {
            var result = try Self.outputChannels(of: input, count: differences[entry]!.dim(1))
            for other in batchEntries { result = try result.adding(differences[other]!) }
            return result
        }
        let output = try model(input)
        differences[entry] = try output.subtracting(Self.outputChannels(of: input, count: output.dim(1)))
        if updating { calls.append((entry, input, output)) }
        return output
    }

    /// The skip decision, made once per step with the first call's input (every entry of a
    /// whole-latent batch has the same input).
    private func decide(_ x: Tensor, sigma: Float) throws {
        updating = firstEntry != nil
        guard sigma <= startSigma else { return }
        // `check_metadata`: a new shape (batch size aside) starts over.
        if let metadata, metadata != Array(x.shape.dropFirst()) { reset() }
        metadata = Array(x.shape.dropFirst())
        if initialStep {
            (initialStep, choosesFirstEntry, updating) = (false, true, true)
            return
        }
        guard updating, let previousInput else { return }
        let change = try Self.meanAbs(subsampled(x).subtracting(previousInput))
        inputChange = change
        guard let norm = previousOutputNorm, let rate else { return }
        cumulative += rate * change / norm
        if cumulative < threshold {
            (skipping, updating) = (true, false)
            skippedSteps += 1
            log?("EasyCache: skipping the step at sigma \(sigma) (cumulative change \(cumulative) < \(threshold))")
        } else {
            cumulative = 0
        }
    }

    /// The end of a computed step: the first conditioning's subsampled input and output, the
    /// batch's output norm and the new change rate.
    private func finishStep() throws {
        guard updating, !calls.isEmpty else { return }
        batchEntries = calls.map(\.entry)
        if choosesFirstEntry { firstEntry = batchEntries.max() }
        guard let first = calls.first(where: { $0.entry == firstEntry }) else { return }
        let outputSample = try subsampled(first.output)
        if previousOutputNorm != nil, let previousOutput, let inputChange {
            rate = try Self.meanAbs(outputSample.subtracting(previousOutput)) / inputChange
        }
        previousInput = try subsampled(first.input)
        previousOutput = outputSample
        // `output.flatten().abs().mean()` over the batched output of every entry.
        let total = calls.reduce(0.0) { $0 + $1.output.scalars.reduce(0.0) { $0 + Double(abs($1)) } }
        previousOutputNorm = Float(total / Double(calls.reduce(0) { $0 + $1.output.count }))
    }

    /// ComfyUI's `reset`, which sets the rate to 0 (not unset) where it starts over.
    private func reset() {
        (rate, cumulative, initialStep, firstEntry) = (0, 0, true, nil)
        (previousInput, previousOutput, previousOutputNorm, metadata) = (nil, nil, nil, nil)
        differences = [:]
        skippedSteps = 0
    }

    /// The input's last `count` channels: what ComfyUI's `cut_from_start` keeps of an input with
    /// concat channels (an inpainting UNet's) against its narrower output.
    static func outputChannels(of input: Tensor, count: Int) throws -> Tensor {
        input.dim(1) == count ? input : try input.slice(axis: 1, start: input.dim(1) - count, length: count)
    }

    /// `x[..., ::8, ::8]`.
    func subsampled(_ x: Tensor) throws -> Tensor { try everyNthPixel(x, factor: subsampleFactor) }

    static func meanAbs(_ x: Tensor) -> Float {
        x.scalars.isEmpty ? 0 : Float(x.scalars.reduce(0.0) { $0 + Double(abs($1)) } / Double(x.count))
    }
}
