import LatentflowTensor

/// A LoRA extracted from weight differences: each ≥2-D difference truncated to its first `rank`
/// singular components, the factors clamped to the 99th percentile of their values.
///
/// Matches: ComfyUI `comfy_extras/nodes_lora_extract.py` (`extract_lora`, `calc_lora_model`).
public enum LoRAExtraction {
    static let clampQuantile: Float = 0.99

    public enum Kind: String, Sendable, CaseIterable {
        /// `lora_up` / `lora_down` pairs (1-D differences as `.diff` when biases are kept).
        case standard
        /// Every difference stored whole as `.diff`.
        case fullDiff = "full_diff"
    }

    /// `(up, down)` for one difference: `[out, r]`, `[r, in]`, or `[out, r, 1, 1]`, `[r, in, kh, kw]` for
    /// convolutions, r = min(rank, out, in).
    public static func factors(_ diff: Tensor, rank: Int) throws -> (up: Tensor, down: Tensor) {
        let matrix = try diff.reshaped([diff.dim(0), diff.count / Swift.max(1, diff.dim(0))])
        let (u, s, vh) = try matrix.singularValueDecomposition()
        return try factors(diffShape: diff.shape, u: u, s: s, vh: vh, rank: rank)
    }

    /// The part of `extract_lora` after the SVD: U·diag(S) and Vh cut to the rank, clamped to
    /// ±(the 0.99 quantile of all their values), reshaped for convolutions.
    static func factors(diffShape: [Int], u: Tensor, s: Tensor, vh: Tensor, rank: Int) throws -> (
        up: Tensor, down: Tensor
    ) {
        let (outDim, inDim) = (diffShape[0], diffShape[1])
        let r = Swift.min(rank, inDim, outDim, s.count)
        var up = try u.slice(axis: 1, start: 0, length: r)
        up = try up.multiplying(s.slice(axis: 0, start: 0, length: r).reshaped([1, r]))
        var down = try vh.slice(axis: 0, start: 0, length: r)
        let high = quantile(up.scalars + down.scalars, clampQuantile)
        up = up.mapScalars { Swift.min(Swift.max($0, -high), high) }
        down = down.mapScalars { Swift.min(Swift.max($0, -high), high) }
        if diffShape.count == 4 {
            up = try up.reshaped([outDim, r, 1, 1])
            down = try down.reshaped([r, inDim, diffShape[2], diffShape[3]])
        }
        return (up, down)
    }

    /// `torch.quantile(values, q)` (linear interpolation), in float32 as torch computes it:
    /// rank q·(n − 1), then `lerp` between the neighbours.
    static func quantile(_ values: [Float], _ q: Float) -> Float {
        let sorted = values.sorted()
        guard !sorted.isEmpty, !sorted.contains(where: \.isNaN) else { return .nan }
        let position = q * Float(sorted.count - 1)
        let below = Int(position)
        let above = Swift.min(below + 1, sorted.count - 1)
        let weight = position - Float(below)
        let (a, b) = (sorted[below], sorted[above])
        // ATen's lerp: a + w·(b − a) for w < 0.5, else b − (b − a)·(1 − w).
        return weight < 0.5 ? a + weight * (b - a) : b - (b - a) * (1 - weight)
    }

    /// The extracted tensors for a model's weight differences `diffs` (keys ending `.weight` /
    /// `.bias`), named `prefix + module + suffix` as ComfyUI's `calc_lora_model` names them.
    /// `skipped` hears of each weight whose factors could not be made (ComfyUI logs a warning).
    public static func extract(
        _ diffs: [String: Tensor], rank: Int, kind: Kind, biasDiff: Bool, prefix: String,
        skipped: (String, Error) -> Void = { _, _ in }
    ) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for key in diffs.keys.sorted() {
            guard let diff = diffs[key] else { continue }
            if key.hasSuffix(".weight") {
                let module = prefix + key.dropLast(".weight".count)
                if kind == .fullDiff {
                    out[module + ".diff"] = diff
                } else if diff.rank < 2 {
                    if biasDiff { out[module + ".diff"] = diff }
                } else {
                    do {
                        let (up, down) = try factors(diff, rank: rank)
                        out[module + ".lora_up.weight"] = up
                        out[module + ".lora_down.weight"] = down
                    } catch {
                        skipped(key, error)
                    }
                }
            } else if biasDiff, key.hasSuffix(".bias") {
                out[prefix + key.dropLast(".bias".count) + ".diff_b"] = diff
            }
        }
        return out
    }
}
