import Foundation
import LatentflowGraph
import LatentflowTensor

// The latent operations of ComfyUI's `comfy_extras/nodes_latent.py` (LATENT_OPERATION values),
// on [B, C, H, W] latents. Both work on each pixel's channel vector: its length ("luminance")
// and its direction are treated apart.

/// ComfyUI's `nodes_post_processing.gaussian_kernel`: a `size` x `size` kernel over
/// `linspace(-1, 1, size)` in both axes, `exp(-d² / 2σ²)`, normalised to sum 1 (float32, as torch).
func comfyGaussianKernel(size: Int, sigma: Float) -> [Float] {
    // torch.linspace fills the first half from the start and the second half from the end.
    let step: Float = size > 1 ? 2 / Float(size - 1) : 0
    let axis = (0..<size).map { i -> Float in i < size / 2 ? -1 + Float(i) * step : 1 - Float(size - 1 - i) * step }
    var kernel = [Float](repeating: 0, count: size * size)
    for row in 0..<size {
        for column in 0..<size {
            let d = (axis[row] * axis[row] + axis[column] * axis[column]).squareRoot()
            kernel[row * size + column] = expf(-(d * d) / (2 * sigma * sigma))
        }
    }
    let sum = kernel.reduce(0, +)
    return kernel.map { $0 / sum }
}

/// Each pixel's channel-vector length plus `epsilon`, [B, H, W].
private func channelNorms(_ latent: Tensor, epsilon: Float) -> [Float] {
    let (b, c, plane) = (latent.dim(0), latent.dim(1), latent.dim(2) * latent.dim(3))
    return latent.withUnsafeBufferPointer { x in
        var norms = [Float](repeating: 0, count: b * plane)
        for n in 0..<b {
            for p in 0..<plane {
                var sum: Float = 0
                for channel in 0..<c { sum += x[(n * c + channel) * plane + p] * x[(n * c + channel) * plane + p] }
                norms[n * plane + p] = sum.squareRoot() + epsilon
            }
        }
        return norms
    }
}

private func requireLatentShape(_ latent: Tensor, _ operation: String) throws {
    guard latent.rank == 4, latent.count > 0 else {
        throw NodeError("\(operation) needs a [batch, channels, height, width] latent, got shape \(latent.shape)")
    }
}

/// `LatentOperationTonemapReinhard`: Reinhard tone mapping of each pixel's channel-vector length,
/// with the white point at (mean + 5 std) · multiplier of that image's lengths (std unbiased, as torch).
func tonemapReinhard(_ latent: Tensor, multiplier: Float) throws -> Tensor {
    try requireLatentShape(latent, "LatentOperationTonemapReinhard")
    let (b, c, plane) = (latent.dim(0), latent.dim(1), latent.dim(2) * latent.dim(3))
    let norms = channelNorms(latent, epsilon: 1e-10)
    var out = latent
    out.withUnsafeMutableBufferPointer { x in
        for n in 0..<b {
            let lengths = norms[(n * plane)..<((n + 1) * plane)]
            let mean = lengths.reduce(0, +) / Float(plane)
            let variance = lengths.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(plane - 1)
            let top = (variance.squareRoot() * 5 + mean) * multiplier
            for p in 0..<plane {
                let length = norms[n * plane + p]
                let scaled = length * (1 / top)
                let mapped = scaled / (scaled + 1) * top
                for channel in 0..<c {
                    x[(n * c + channel) * plane + p] = x[(n * c + channel) * plane + p] / length * mapped
                }
            }
        }
    }
    return out
}

/// `LatentOperationSharpen`: an unsharp kernel (the Gaussian scaled by −10·alpha, its centre
/// raised so that it sums to 1) over the channel directions, reflect-padded by `radius`; the
/// lengths are kept.
func sharpenLatent(_ latent: Tensor, radius: Int, sigma: Float, alpha: Float) throws -> Tensor {
    try requireLatentShape(latent, "LatentOperationSharpen")
    let (b, c, h, w) = (latent.dim(0), latent.dim(1), latent.dim(2), latent.dim(3))
    guard radius < h, radius < w else {
        // torch's reflect padding refuses a pad as large as the dimension.
        throw NodeError(
            "LatentOperationSharpen: sharpen_radius \(radius) needs a latent larger than \(radius) in both dimensions, got \(h)x\(w)"
        )
    }
    let size = 2 * radius + 1
    var kernel = comfyGaussianKernel(size: size, sigma: sigma).map { $0 * (alpha * -10) }
    let center = radius * size + radius
    kernel[center] = kernel[center] - kernel.reduce(0, +) + 1
    let norms = channelNorms(latent, epsilon: 1e-6)
    let reflect = { (i: Int, n: Int) -> Int in i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i) }
    // Each pixel's channel direction, once (the kernel reads every one (2·radius + 1)² times).
    var directions = latent
    directions.withUnsafeMutableBufferPointer { x in
        for n in 0..<b {
            for channel in 0..<c {
                for p in 0..<(h * w) { x[(n * c + channel) * h * w + p] /= norms[n * h * w + p] }
            }
        }
    }
    var out = latent
    directions.withUnsafeBufferPointer { x in
        out.withUnsafeMutableBufferPointer { y in
            for n in 0..<b {
                for channel in 0..<c {
                    let base = (n * c + channel) * h * w
                    for row in 0..<h {
                        for column in 0..<w {
                            var sum: Float = 0
                            for dy in 0..<size {
                                let source = base + reflect(row + dy - radius, h) * w
                                for dx in 0..<size {
                                    sum += kernel[dy * size + dx] * x[source + reflect(column + dx - radius, w)]
                                }
                            }
                            y[base + row * w + column] = norms[n * h * w + row * w + column] * sum
                        }
                    }
                }
            }
        }
    }
    return out
}
