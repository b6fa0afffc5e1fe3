import Foundation
import LatentflowTensor

/// Token merging (ToMe for SD): the `r` source tokens most similar to a destination token are
/// averaged into it before self-attention, and copied back out after, so the attention runs on
/// fewer queries.
///
/// The `h`·`w` tokens are cut into 2×2 cells; one token per cell (the cell's `destinations` entry,
/// 0–3 in row-major order inside the cell) is a destination, the rest, with the rows and columns
/// past the last whole cell, are sources. Each source is matched to its most cosine-similar
/// destination; the `r` best-matched sources are merged (a destination becomes the mean of itself
/// and its merged sources), the rest pass through. Tokens are kept in raster order within each
/// group: the attention treats queries independently, so the order ComfyUI's argsort leaves them
/// in changes nothing after `unmerge`.
///
/// Matches: ComfyUI `comfy_extras/nodes_tomesd.py` `bipartite_soft_matching_random2d` (strides 2).
public struct TokenMerging: Sendable {
    let batch: Int, tokens: Int
    /// Per batch entry: the token index of each unmerged source, then of each destination, in
    /// the merged sequence's order.
    let kept: [[Int]]
    /// Per batch entry: (merged source token, index of its destination in the merged sequence).
    let merged: [[(source: Int, target: Int)]]

    /// The destination count `destinations` must hold: one per whole 2×2 cell.
    public static func cellCount(height: Int, width: Int) -> Int { (height / 2) * (width / 2) }

    /// - Parameter metric: `[B, h·w, C]` tokens whose cosine similarity decides the merges.
    /// - Returns: nil when nothing merges (`r` ≤ 0, or a side of 1), as ComfyUI's `do_nothing`.
    public init?(metric: Tensor, height h: Int, width w: Int, remove r: Int, destinations: [Int]) throws {
        guard r > 0, h > 1, w > 1 else { return nil }
        guard metric.rank == 3, metric.dim(1) == h * w, destinations.count == Self.cellCount(height: h, width: w)
        else {
            throw TensorError.shapeMismatch(
                "TomePatchModel: tokens \(metric.shape) do not fit a \(h)x\(w) grid with \(destinations.count) cells")
        }
        let (batch, n, c) = (metric.dim(0), h * w, metric.dim(2))
        var isDestination = [Bool](repeating: false, count: n)
        for (cell, choice) in destinations.enumerated() {
            let (cy, cx) = (cell / (w / 2), cell % (w / 2))
            isDestination[(cy * 2 + choice / 2) * w + cx * 2 + choice % 2] = true
        }
        let dst = (0..<n).filter { isDestination[$0] }, src = (0..<n).filter { !isDestination[$0] }
        let r = min(r, src.count)
        let scalars = metric.scalars
        func normalized(_ b: Int, _ t: Int) -> [Float] {
            let row = Array(scalars[((b * n + t) * c)..<((b * n + t + 1) * c)])
            let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return row.map { $0 / norm }
        }
        var kept: [[Int]] = [], merged: [[(Int, Int)]] = []
        for b in 0..<batch {
            let targets = dst.map { normalized(b, $0) }
            // Each source's best destination (the first on a tie, as torch.max) and its similarity.
            let best = src.map { s -> (score: Float, target: Int) in
                let a = normalized(b, s)
                var top = (score: -Float.infinity, target: 0)
                for (j, t) in targets.enumerated() {
                    var dot: Float = 0
                    for i in 0..<c { dot += a[i] * t[i] }
                    if dot > top.score { top = (dot, j) }
                }
                return top
            }
            let order = src.indices.sorted { (best[$0].score, $1) > (best[$1].score, $0) }
            let unmerged = order[r...].sorted().map { src[$0] }
            kept.append(unmerged + dst)
            merged.append(order[..<r].map { (src[$0], unmerged.count + best[$0].target) })
        }
        (self.batch, self.tokens, self.kept, self.merged) = (batch, n, kept, merged)
    }

    /// `[B, h·w, C]` → `[B, h·w − r, C]`: the unmerged sources, then the destinations, each
    /// destination the mean of itself and the sources merged into it.
    public func merge(_ x: Tensor) throws -> Tensor {
        guard x.rank == 3, x.dim(0) == batch, x.dim(1) == tokens else {
            throw TensorError.shapeMismatch(
                "TomePatchModel: cannot merge \(x.shape), expected [\(batch), \(tokens), C]")
        }
        let (c, length) = (x.dim(2), kept[0].count)
        let source = x.scalars
        var out = [Float](repeating: 0, count: batch * length * c)
        for b in 0..<batch {
            var counts = [Float](repeating: 1, count: length)
            for (i, t) in kept[b].enumerated() {
                for ch in 0..<c { out[(b * length + i) * c + ch] = source[(b * tokens + t) * c + ch] }
            }
            for (s, target) in merged[b] {
                counts[target] += 1
                for ch in 0..<c { out[(b * length + target) * c + ch] += source[(b * tokens + s) * c + ch] }
            }
            for i in 0..<length where counts[i] > 1 {
                for ch in 0..<c { out[(b * length + i) * c + ch] /= counts[i] }
            }
        }
        return try Tensor(shape: [batch, length, c], scalars: out)
    }

    /// `[B, h·w − r, C]` → `[B, h·w, C]`: every token back in its place, a merged source taking
    /// its destination's value.
    public func unmerge(_ x: Tensor) throws -> Tensor {
        let length = kept[0].count
        guard x.rank == 3, x.dim(0) == batch, x.dim(1) == length else {
            throw TensorError.shapeMismatch(
                "TomePatchModel: cannot unmerge \(x.shape), expected [\(batch), \(length), C]")
        }
        let c = x.dim(2)
        let source = x.scalars
        var out = [Float](repeating: 0, count: batch * tokens * c)
        for b in 0..<batch {
            for (i, t) in kept[b].enumerated() {
                for ch in 0..<c { out[(b * tokens + t) * c + ch] = source[(b * length + i) * c + ch] }
            }
            for (s, target) in merged[b] {
                for ch in 0..<c { out[(b * tokens + s) * c + ch] = source[(b * length + target) * c + ch] }
            }
        }
        return try Tensor(shape: [batch, tokens, c], scalars: out)
    }
}
