import LatentflowGraph
import LatentflowTensor

/// ComfyUI's `RebatchLatents` (`comfy_extras/nodes_rebatch.py`): a list of latent batches regrouped
/// into batches of `batch_size`, keeping each sample's noise mask and batch index (which decides
/// its noise). Batches of different sizes are never mixed: a size change closes the batch being
/// filled. Masks that are all ones are dropped again at the end.
public struct RebatchLatents: Node {
    static let latents = Input<Latent>("latents")
    static let batchSize = Input.int("batch_size", default: 1, min: 1, max: 4096)

    public static let schema = NodeSchema(
        "RebatchLatents", displayName: "Rebatch Latents", category: "latent/batch",
        inputs: [latents, batchSize], outputs: [OutputSpec(name: "LATENT", type: .latent, isList: true)],
        inputIsList: true)

    public init() {}

    /// Samples with one mask and one batch index each, as ComfyUI carries them while regrouping.
    struct Group {
        var samples: Tensor
        var masks: Tensor
        var indices: [Int]

        var count: Int { samples.dim(0) }

        /// Rows `start ..< start + length`, clamped as Python slices are, of each part.
        func rows(_ start: Int, _ length: Int) throws -> Group {
            func cut(_ t: Tensor) throws -> Tensor {
                let from = min(start, t.dim(0))
                return try t.slice(axis: 0, start: from, length: min(length, t.dim(0) - from))
            }
            let from = min(start, indices.count)
            return Group(
                samples: try cut(samples), masks: try cut(masks),
                indices: Array(indices[from..<min(from + length, indices.count)]))
        }

        func appending(_ other: Group) throws -> Group {
            guard Array(masks.shape.dropFirst()) == Array(other.masks.shape.dropFirst()) else {
                throw NodeError(
                    "noise masks of sizes \(masks.shape) and \(other.masks.shape) cannot be batched together")
            }
            return Group(
                samples: try Tensor.concat([samples, other.samples], axis: 0),
                masks: try Tensor.concat([masks, other.masks], axis: 0), indices: indices + other.indices)
        }

        var latent: Latent {
            let allOnes = masks.scalars.allSatisfy { $0 == 1 }
            return Latent(samples, batchIndex: indices, noiseMask: allOnes ? nil : masks)
        }
    }

    /// One input latent as a group: its mask (ones at pixel size when it has none) as [N, 1, H, W]
    /// repeated to the batch, its indices continuing from `offset` when it has none.
    static func group(_ latent: Latent, offset: Int) throws -> Group {
        let samples = latent.samples
        guard samples.rank == 4 else {
            throw NodeError("a latent of shape \(samples.shape) is not [batch, channels, height, width]")
        }
        let count = samples.dim(0)
        var masks = Tensor(shape: [count, 1, samples.dim(2) * 8, samples.dim(3) * 8], repeating: 1)
        if let mask = latent.noiseMask, mask.rank >= 2 {
            masks = try mask.reshaped([-1, 1, mask.dim(-2), mask.dim(-1)])
            if masks.dim(0) < count {
                let copies = (count - 1) / masks.dim(0) + 1
                masks = try Tensor.concat(Array(repeating: masks, count: copies), axis: 0).slice(
                    axis: 0, start: 0, length: count)
            }
        }
        return Group(samples: samples, masks: masks, indices: latent.batchIndex ?? Array(offset..<(offset + count)))
    }

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let batchSize = try inputs.list(Self.batchSize).first ?? 1
        var output: [any Sendable] = []
        var current: Group?
        var processed = 0
        for latent in try inputs.list(Self.latents) {
            let next = try Self.group(latent, offset: processed)
            processed += next.indices.count
            if let filling = current {
                if filling.samples.shape.suffix(2) != next.samples.shape.suffix(2) {
                    output.append(try filling.rows(0, batchSize).latent)
                    current = next
                } else {
                    current = try filling.appending(next)
                }
            } else {
                current = next
            }
            if let full = current, full.count > batchSize {
                let batches = full.count / batchSize
                for i in 0..<batches { output.append(try full.rows(i * batchSize, batchSize).latent) }
                current = batches * batchSize < full.count ? try full.rows(batches * batchSize, full.count) : nil
            }
        }
        if let rest = current { output.append(try rest.rows(0, batchSize).latent) }
        return NodeOutputs(output)
    }
}
