import Foundation
import LatentflowTensor

/// Self-Attention Guidance's image operations: which latent pixels the UNet's middle-block
/// self-attention attends to most, and the x0 prediction blurred there.
///
/// Matches: ComfyUI `comfy_extras/nodes_sag.py` `attention_basic_with_sim` (only the probabilities'
/// head mean summed over the queries is kept: that is all `create_blur_map` reads), `create_blur_map`
/// and `gaussian_blur_2d`.
public enum SelfAttentionBlur {
    /// The kernel width SAG blurs with (`kernel_size=9`).
    public static let kernelSize = 9

    /// Per key token, the attention it receives: softmax(q·kᵀ/√d) averaged over the heads and
    /// summed over the queries, `[B, Nk]` from a `[B, Nq, heads·d]` query and `[B, Nk, heads·d]` key.
    /// A key above 1 draws more than an average token's share.
    public static func keyAttentionMass(query: Tensor, key: Tensor, heads: Int) throws -> Tensor {
        guard query.rank == 3, key.rank == 3, query.dim(0) == key.dim(0), query.dim(2) == key.dim(2), heads > 0,
            query.dim(2) % heads == 0
        else {
            throw TensorError.shapeMismatch(
                "SelfAttentionGuidance: attention query \(query.shape) and key \(key.shape) do not fit \(heads) heads")
        }
        let (batch, nq, nk, width) = (query.dim(0), query.dim(1), key.dim(1), query.dim(2))
        let d = width / heads
        let scale = Float(d).squareRoot() == 0 ? 1 : 1 / Float(d).squareRoot()
        var mass = [Float](repeating: 0, count: batch * nk)
        var row = [Float](repeating: 0, count: nk)
        query.withUnsafeBufferPointer { q in
            key.withUnsafeBufferPointer { k in
                for b in 0..<batch {
                    for h in 0..<heads {
                        for i in 0..<nq {
                            let qBase = (b * nq + i) * width + h * d
                            var peak = -Float.infinity
                            for j in 0..<nk {
                                let kBase = (b * nk + j) * width + h * d
                                var dot: Float = 0
                                for c in 0..<d { dot += q[qBase + c] * k[kBase + c] }
                                row[j] = dot * scale
                                peak = max(peak, row[j])
                            }
                            var total: Float = 0
                            for j in 0..<nk {
                                row[j] = exp(row[j] - peak)
                                total += row[j]
                            }
                            for j in 0..<nk { mass[b * nk + j] += row[j] / total / Float(heads) }
                        }
                    }
                }
            }
        }
        return try Tensor(shape: [batch, nk], scalars: mass)
    }

    /// The rows × columns grid the middle block's `tokens` lie on for a `height` × `width` latent:
    /// the divisor of `tokens` nearest round(√(tokens·height/width)), searched outwards as
    /// `create_blur_map` searches; nil when that search finds none.
    static func tokenGrid(tokens: Int, height: Int, width: Int) -> (rows: Int, cols: Int)? {
        let guess = Int((Double(height) / Double(width) * Double(tokens)).squareRoot().rounded(.toNearestOrEven))
        for i in 0..<Int(Double(tokens).squareRoot() / 2) {
            for rows in [guess + i, max(1, guess - i)] where rows > 0 && tokens % rows == 0 {
                return (rows, tokens / rows)
            }
        }
        return nil
    }

    /// `x0` blurred (`gaussianBlur` at `sigma`) where the key mass is above `threshold`, upsampled
    /// nearest-neighbour from the middle block's grid, and unchanged elsewhere.
    public static func blurred(_ x0: Tensor, keyMass: Tensor, sigma: Float, threshold: Float = 1) throws -> Tensor {
        guard x0.rank == 4, keyMass.rank == 2, keyMass.dim(0) == x0.dim(0) else {
            throw TensorError.shapeMismatch(
                "SelfAttentionGuidance: attention mass \(keyMass.shape) does not match the latent \(x0.shape)")
        }
        let (n, c, h, w) = (x0.dim(0), x0.dim(1), x0.dim(2), x0.dim(3))
        let tokens = keyMass.dim(1)
        guard let grid = tokenGrid(tokens: tokens, height: h, width: w) else {
            throw TensorError.shapeMismatch(
                "SelfAttentionGuidance: cannot lay the middle block's \(tokens) tokens on a grid for a \(h)x\(w) latent"
            )
        }
        let blur = try gaussianBlur(x0, sigma: sigma)
        let mass = keyMass.scalars, source = x0.scalars, blurredScalars = blur.scalars
        return Tensor(shape: x0.shape) { out in
            for b in 0..<n {
                for y in 0..<h {
                    // `F.interpolate`'s default nearest: source index floor(dst · in / out).
                    let gy = min(Int(Float(y) * (Float(grid.rows) / Float(h))), grid.rows - 1)
                    for x in 0..<w {
                        let gx = min(Int(Float(x) * (Float(grid.cols) / Float(w))), grid.cols - 1)
                        let masked = mass[b * tokens + gy * grid.cols + gx] > threshold
                        for ch in 0..<c {
                            let index = ((b * c + ch) * h + y) * w + x
                            out[index] = masked ? blurredScalars[index] : source[index]
                        }
                    }
                }
            }
        }
    }

    /// A `kernelSize`² Gaussian blur per channel over reflect padding (`gaussian_blur_2d`); needs
    /// each spatial side longer than half the kernel. At sigma 0 the image is returned unchanged
    /// (ComfyUI divides by 0 there and yields NaN; the Gaussian's limit is no blur).
    public static func gaussianBlur(_ image: Tensor, sigma: Float) throws -> Tensor {
        let half = kernelSize / 2
        guard image.rank == 4, image.dim(2) > half, image.dim(3) > half else {
            throw TensorError.shapeMismatch(
                "SelfAttentionGuidance: the blur needs an [N, C, H, W] image with H and W over \(half), got \(image.shape)"
            )
        }
        guard sigma > 0 else { return image }
        // torch.linspace(-4, 4, 9) is exactly the integers; the 1-D pdf normalized, the 2-D kernel its outer product.
        let pdf = (0..<kernelSize).map { exp(-0.5 * pow(Float($0 - half) / sigma, 2)) }
        let total = pdf.reduce(0, +)
        let taps = pdf.map { $0 / total }
        let (planes, h, w) = (image.dim(0) * image.dim(1), image.dim(2), image.dim(3))
        func reflect(_ i: Int, _ size: Int) -> Int { i < 0 ? -i : (i >= size ? 2 * (size - 1) - i : i) }
        let source = image.scalars
        return Tensor(shape: image.shape) { out in
            for p in 0..<planes {
                let base = p * h * w
                for y in 0..<h {
                    for x in 0..<w {
                        var sum: Float = 0
                        for ky in 0..<kernelSize {
                            let row = base + reflect(y + ky - half, h) * w
                            var line: Float = 0
                            for kx in 0..<kernelSize {
                                line += taps[ky] * taps[kx] * source[row + reflect(x + kx - half, w)]
                            }
                            sum += line
                        }
                        out[base + y * w + x] = sum
                    }
                }
            }
        }
    }
}
