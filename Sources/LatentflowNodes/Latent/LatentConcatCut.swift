import LatentflowGraph
import LatentflowTensor

/// The latent axis a LatentConcat / LatentCut `dim` names: x the last, y the one before, t the
/// one before that (the channels of a 4-D SD latent, as in ComfyUI).
private func latentAxis(_ dim: String, rank: Int) -> Int {
    dim.contains("x") ? rank - 1 : dim.contains("y") ? rank - 2 : rank - 3
}

/// Two latents joined along x, y or t; "-" puts the second first.
///
/// Matches: ComfyUI `comfy_extras/nodes_latent.py` `LatentConcat.op`: samples2 repeated to
/// samples1's batch (`repeat_to_batch_size`), then `torch.cat`; samples1's other keys carry over.
public struct LatentConcat: Node {
    static let samples1 = Input<Latent>("samples1")
    static let samples2 = Input<Latent>("samples2")
    static let dim = Input.combo("dim", options: ["x", "-x", "y", "-y", "t", "-t"])

    public static let schema = NodeSchema(
        "LatentConcat", category: "latent/advanced", inputs: [samples1, samples2, dim],
        outputs: outputs(Output<Latent>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var latent = try inputs[Self.samples1]
        let dim = try inputs[Self.dim]
        let first = latent.samples
        let second = try inputs[Self.samples2].samples.repeatedToBatch(first.dim(0))
        let axis = latentAxis(dim, rank: first.rank)
        guard first.rank == second.rank, axis >= 1,
            (0..<first.rank).allSatisfy({ $0 == axis || first.dim($0) == second.dim($0) })
        else {
            throw NodeError(
                "LatentConcat: samples1 \(first.shape) and samples2 \(second.shape) must match except along '\(dim)'")
        }
        latent.samples = try Tensor.concat(dim.hasPrefix("-") ? [second, first] : [first, second], axis: axis)
        return NodeOutputs(latent)
    }
}

/// A slice of a latent along x, y or t; a negative index counts from the end.
///
/// Matches: ComfyUI `nodes_latent.py` `LatentCut.op`: the index is clamped into the axis, the
/// amount to what is left after it, then `torch.narrow`; the other keys carry over.
public struct LatentCut: Node {
    static let samples = Input<Latent>("samples")
    static let dim = Input.combo("dim", options: ["x", "y", "t"])
    static let index = Input.int("index", default: 0, min: -maxResolution, max: maxResolution, step: 1)
    static let amount = Input.int("amount", default: 1, min: 1, max: maxResolution, step: 1)

    public static let schema = NodeSchema(
        "LatentCut", category: "latent/advanced", inputs: [samples, dim, index, amount],
        outputs: outputs(Output<Latent>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var latent = try inputs[Self.samples]
        let axis = latentAxis(try inputs[Self.dim], rank: latent.samples.rank)
        guard axis >= 0 else { throw NodeError("LatentCut: samples \(latent.samples.shape) has no such axis") }
        let length = latent.samples.dim(axis)
        var (index, amount) = (try inputs[Self.index], try inputs[Self.amount])
        guard amount >= 1 else { throw NodeError("LatentCut: input 'amount' must be at least 1, got \(amount)") }
        if index >= 0 {
            index = min(index, length - 1)
            amount = min(length - index, amount)
        } else {
            index = max(index, -length)
            amount = min(-index, amount)
            index += length  // torch.narrow counts a negative start from the end
        }
        latent.samples = try latent.samples.slice(axis: axis, start: index, length: amount)
        return NodeOutputs(latent)
    }
}
