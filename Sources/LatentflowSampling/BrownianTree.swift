import Foundation
import LatentflowTensor

/// A Brownian motion on [t0, t1] whose increments depend only on the seed, not on which
/// intervals are asked for or in what order: the noise of ComfyUI's SDE samplers (dpmpp_sde,
/// dpmpp_2m_sde, dpmpp_3m_sde).
///
/// The interval is split at dyadic midpoints (rounded to 6 decimals, torchsde's `tol=1e-6`) down
/// to the query points. Each node's increment comes from its parent's by a Brownian bridge whose
/// normal draw is `torch.randn` from a generator seeded with a `SeedSequence` word for that node.
///
/// Matches: torchsde `_brownian/brownian_interval.py` (`BrownianInterval` with `halfway_tree=True`,
/// no Lévy area, `pool_size=24`) and `_brownian/derived.py` `BrownianTree`, as ComfyUI's
/// `BatchedBrownianTree` builds it with a single seed over the whole latent batch.
public final class BrownianTree {
    private final class Node {
        let start: Double, end: Double
        let parent: Node?
        let isLeft: Bool
        var midway: Double?
        var left: Node?, right: Node?
        /// torchsde's spawn key (root 0, children 2k and 2k + 1) and depth, set when split.
        var spawnKey: UInt64 = 0, depth: UInt64 = 0
        /// Seed of the bridge draw that splits this node's increment between its children.
        var splitSeed: UInt32 = 0

        init(start: Double, end: Double, parent: Node?, isLeft: Bool) {
            (self.start, self.end, self.parent, self.isLeft) = (round6(start), round6(end), parent, isLeft)
        }
    }

    private static let poolSize = 24
    private let shape: [Int]
    private let entropy: UInt64
    private let root: Node
    private let rootIncrement: Tensor

    public init(shape: [Int], t0: Double, t1: Double, seed: UInt64) throws {
        guard t0 <= t1 else { throw SamplingError("Brownian tree: t0 \(t0) is after t1 \(t1)") }
        (self.shape, entropy) = (shape, seed)
        root = Node(start: t0, end: t1, parent: nil, isLeft: false)
        let seeds = SeedSequence(entropy: seed, poolSize: Self.poolSize).generateState(3)
        rootIncrement = try Self.randn(shape, seed: seeds[0]).scaled(by: Float((t1 - t0).squareRoot()))
    }

    /// W(tb) − W(ta) for ta ≤ tb, clamped to the tree's interval as torchsde clamps (with a
    /// warning there, silently here).
    public func increment(from ta: Double, to tb: Double) throws -> Tensor {
        let ta = min(max(ta, root.start), root.end), tb = min(max(tb, root.start), root.end)
        guard ta < tb else {
            if ta == tb { return Tensor(shape: shape) }
            throw SamplingError("Brownian tree: query times \(ta) > \(tb)")
        }
        var intervals: [Node] = []
        locate(root, round6(ta), round6(tb), into: &intervals)
        var memo: [ObjectIdentifier: Tensor] = [:]
        var w = try increment(of: intervals[0], memo: &memo)
        for interval in intervals.dropFirst() { w = try w.adding(increment(of: interval, memo: &memo)) }
        return w
    }

    /// The canonical cover of [ta, tb] by tree nodes, left to right, splitting nodes on the way.
    private func locate(_ node: Node, _ ta: Double, _ tb: Double, into out: inout [Node]) {
        if ta == node.start && tb == node.end {
            out.append(node)
            return
        }
        guard let midway = node.midway, let left = node.left, let right = node.right else {
            split(node, toward: ta == node.start ? tb : ta)
            return locate(node, ta, tb, into: &out)
        }
        if tb <= midway { return locate(left, ta, tb, into: &out) }
        if ta >= midway { return locate(right, ta, tb, into: &out) }
        locate(left, ta, midway, into: &out)
        locate(right, midway, tb, into: &out)
    }

    /// Halves `node` and keeps halving the half that holds `point` until a midpoint lands on it.
    private func split(_ node: Node, toward point: Double) {
        var node = node
        while true {
            if node.midway == nil { splitExactly(node) }
            guard let midway = node.midway else { return }
            if point > midway, let right = node.right {
                node = right
            } else if point < midway, let left = node.left {
                node = left
            } else {
                return
            }
        }
    }

    private func splitExactly(_ node: Node) {
        let midway = 0.5 * (node.end + node.start)
        node.midway = round6(midway)
        if let parent = node.parent {
            (node.spawnKey, node.depth) = (2 * parent.spawnKey + (node.isLeft ? 0 : 1), parent.depth + 1)
        }
        let seeds = SeedSequence(entropy: entropy, spawnKey: [node.spawnKey, node.depth], poolSize: Self.poolSize)
        node.splitSeed = seeds.generateState(4)[0]
        node.left = Node(start: node.start, end: midway, parent: node, isLeft: true)
        node.right = Node(start: midway, end: node.end, parent: node, isLeft: false)
    }

    /// A node's increment from its parent's: the Brownian bridge at the parent's midpoint.
    private func increment(of node: Node, memo: inout [ObjectIdentifier: Tensor]) throws -> Tensor {
        guard let parent = node.parent, let midway = parent.midway else { return rootIncrement }
        if let known = memo[ObjectIdentifier(node)] { return known }
        let whole = try increment(of: parent, memo: &memo)
        let leftLength = midway - parent.start, rightLength = parent.end - midway
        let reciprocal = 1 / (parent.end - parent.start)
        let noise = try Self.randn(shape, seed: parent.splitSeed)
        // torch evaluates `left_diff * W * h_reciprocal + sqrt(var) * noise` in float32 with each
        // Python float rounded to float32 first.
        let a = Float(leftLength), b = Float(reciprocal),
            c = Float((leftLength * rightLength * reciprocal).squareRoot())
        var leftPart = Tensor(shape: shape)
        whole.withUnsafeBufferPointer { w in
            noise.withUnsafeBufferPointer { n in
                leftPart.withUnsafeMutableBufferPointer { out in
                    for i in out.indices { out[i] = (w[i] * a) * b + n[i] * c }
                }
            }
        }
        let result = node.isLeft ? leftPart : try whole.subtracting(leftPart)
        memo[ObjectIdentifier(node)] = result
        return result
    }

    private static func randn(_ shape: [Int], seed: UInt32) throws -> Tensor {
        var generator = TorchCPUGenerator(seed: UInt64(seed))
        return try generator.randn(shape)
    }
}

/// Python's `round(x, 6)`: the exact binary value correctly rounded to 6 decimals, ties to even,
/// which is what C's `%.6f` does.
func round6(_ x: Double) -> Double {
    Double(String(format: "%.6f", x)) ?? x
}

/// ComfyUI's `BrownianTreeNoiseSampler` with the identity transform: unit-variance noise for the
/// step from `sigma` to `next`, `(W(next) − W(sigma)) / sqrt(|next − sigma|)`.
public struct BrownianTreeNoise {
    private let tree: BrownianTree
    private let orientation: Float

    /// - Parameter sigmas: the sampler's schedule; the tree spans its smallest positive and its
    ///   largest sigma.
    public init(shape: [Int], sigmas: [Float], seed: UInt64) throws {
        let low = sigmas.filter { $0 > 0 }.min() ?? 0, high = sigmas.max() ?? 0
        orientation = low < high ? 1 : -1
        tree = try BrownianTree(shape: shape, t0: Double(min(low, high)), t1: Double(max(low, high)), seed: seed)
    }

    public func callAsFunction(from sigma: Float, to next: Float) throws -> Tensor {
        let sign: Float = sigma < next ? 1 : -1
        var w = try tree.increment(from: Double(min(sigma, next)), to: Double(max(sigma, next)))
        if orientation * sign < 0 { w = w.scaled(by: -1) }
        return try w.dividing(Samplers.scalar(abs(next - sigma).squareRoot()))
    }
}
