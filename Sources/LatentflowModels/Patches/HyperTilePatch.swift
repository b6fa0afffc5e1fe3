import Foundation
import LatentflowTensor

/// HyperTile: self-attention queries split into tiles of about `tileSize` pixels, each tile a
/// batch entry of its own, on the shallow levels of the UNet.
///
/// As in ComfyUI, only the query is tiled: the keys and values stay whole and the attention views
/// them with the tiled batch size, so tile i reads the i-th run of tokens in raster order. Tile
/// counts are drawn with Python's `random.seed(counter)` + `randint`, the counter starting at 1 when
/// the node runs and going up by 2 at every patched attention call, across samplings of the same
/// MODEL. Latentflow runs the positive and negative conditionings as separate UNet calls where
/// ComfyUI batches them, so with CFG the draws fall on different calls than in ComfyUI.
///
/// Matches: ComfyUI `comfy_extras/nodes_hypertile.py`.
public final class HyperTilePatch: @unchecked Sendable {
    let modelChannels: Int
    let applyTo: Set<Int>
    let latentTileSize: Int
    let swapSize: Int
    let scaleDepth: Bool
    private let lock = NSLock()
    private var counter = 1
    private var pending: (nh: Int, nw: Int, h: Int, w: Int)?

    public init(modelChannels: Int, tileSize: Int, swapSize: Int, maxDepth: Int, scaleDepth: Bool) {
        self.modelChannels = modelChannels
        applyTo = Set((0...max(0, maxDepth)).map { modelChannels << $0 })
        latentTileSize = max(32, tileSize) / 8
        (self.swapSize, self.scaleDepth) = (swapSize, scaleDepth)
    }

    /// The `attn1_patch`: tiles the query.
    public var attentionPatch: UNetPatches.AttentionInput {
        { [self] q, k, v, call in (try tileQuery(q, call), k, v) }
    }

    /// The `attn1_output_patch`: puts the tiles back.
    public var outputPatch: UNetPatches.AttentionOutput {
        { [self] out, _ in try untile(out) }
    }

    func tileQuery(_ q: Tensor, _ call: UNetCallInfo) throws -> Tensor {
        let channels = q.dim(2)
        guard applyTo.contains(channels), call.originalShape.count == 4, call.originalShape[2] > 0 else { return q }
        let aspect = Double(call.originalShape[3]) / Double(call.originalShape[2])
        guard let grid = Self.hwCandidates(q.dim(1), aspectRatio: aspect) else { return q }
        let (h, w) = grid
        let factor = scaleDepth ? 1 << max(0, channels / modelChannels - 1) : 1
        lock.lock()
        let seed = counter
        counter += 2
        lock.unlock()
        let nh = Self.randomDivisor(h, minimum: latentTileSize * factor, options: swapSize, seed: seed)
        let nw = Self.randomDivisor(w, minimum: latentTileSize * factor, options: swapSize, seed: seed + 1)
        guard nh * nw > 1 else { return q }
        lock.lock()
        pending = (nh, nw, h, w)
        lock.unlock()
        // "b (nh h nw w) c -> (b nh nw) (h w) c"
        return try q.reshaped([q.dim(0), nh, h / nh, nw, w / nw, channels]).permuted([0, 1, 3, 2, 4, 5])
            .reshaped([q.dim(0) * nh * nw, (h / nh) * (w / nw), channels])
    }

    func untile(_ out: Tensor) throws -> Tensor {
        lock.lock()
        let tiles = pending
        pending = nil
        lock.unlock()
        guard let tiles else { return out }
        let (nh, nw, h, w) = tiles
        let (batch, channels) = (out.dim(0) / (nh * nw), out.dim(2))
        // "(b nh nw) (h w) c -> b (nh h nw w) c"
        return try out.reshaped([batch, nh, nw, h / nh, w / nw, channels]).permuted([0, 1, 3, 2, 4, 5])
            .reshaped([batch, h * w, channels])
    }

    /// `random_divisor`: one of the `options` largest tile counts `value / d` over divisors d ≥
    /// `minimum`, chosen by Python's `random` seeded with `seed`.
    static func randomDivisor(_ value: Int, minimum: Int, options: Int, seed: Int) -> Int {
        let low = min(minimum, value)
        let divisors = (max(1, low)...max(1, value)).filter { value % $0 == 0 }
        let counts = divisors.prefix(max(1, options)).map { value / $0 }
        var random = PythonRandom(seed: UInt32(truncatingIfNeeded: seed))
        return counts[random.randint(upTo: counts.count - 1)]
    }

    /// `find_hw_candidates`: an h·w = `tokens` grid close to the latent's aspect ratio (w/h).
    static func hwCandidates(_ tokens: Int, aspectRatio: Double) -> (Int, Int)? {
        var h = Int((Double(tokens) * aspectRatio).squareRoot().rounded(.toNearestOrEven))
        var w = Int((Double(tokens) / aspectRatio).squareRoot().rounded(.toNearestOrEven))
        guard h > 0, w > 0 else { return nil }
        if h * w != tokens {
            if tokens % h == 0 {
                w = tokens / h
            } else if tokens % w == 0 {
                h = tokens / w
            } else {
                return closestDivisors(tokens, aspectRatio: aspectRatio)
            }
        }
        return (h, w)
    }

    /// `iterative_closest_divisors`: the divisor pair (i, tokens/i), i ≥ 2, whose (tokens/i)/i is
    /// nearest the aspect ratio (the first such).
    static func closestDivisors(_ tokens: Int, aspectRatio: Double) -> (Int, Int)? {
        guard tokens >= 2 else { return nil }
        let pairs = (2...tokens).filter { tokens % $0 == 0 }.map { ($0, tokens / $0) }
        return pairs.min {
            abs(Double($0.1) / Double($0.0) - aspectRatio) < abs(Double($1.1) / Double($1.0) - aspectRatio)
        }
    }
}
