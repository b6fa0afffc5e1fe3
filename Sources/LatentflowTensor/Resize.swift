import Foundation

/// Image resizing with the semantics of PyTorch's `F.interpolate(size=...)` (align_corners=False,
/// no antialias) and `F.adaptive_avg_pool2d` for "area", which ComfyUI's upscale nodes call.
public enum ResizeMode: String, Sendable, CaseIterable {
    case nearest
    case nearestExact = "nearest-exact"
    case bilinear
    case bicubic
    case area
}

/// The taps one output coordinate reads along one axis: input indices and their weights.
private struct AxisTaps {
    var indices: [[Int]]
    var weights: [[Float]]
}

private func axisTaps(_ mode: ResizeMode, input: Int, output: Int) -> AxisTaps {
    // PyTorch computes the scale in float ("opmath" for float32 inputs).
    let scale = Float(input) / Float(output)
    var indices: [[Int]] = [], weights: [[Float]] = []
    for dst in 0..<output {
        switch mode {
        case .nearest:
            indices.append([min(Int(floorf(Float(dst) * scale)), input - 1)])
            weights.append([1])
        case .nearestExact:
            indices.append([min(Int(floorf((Float(dst) + 0.5) * scale)), input - 1)])
            weights.append([1])
        case .bilinear:
            let real = max(scale * (Float(dst) + 0.5) - 0.5, 0)
            let i0 = Int(real)
            let lambda = min(max(real - Float(i0), 0), 1)
            indices.append([i0, i0 + (i0 < input - 1 ? 1 : 0)])
            weights.append([1 - lambda, lambda])
        case .bicubic:
            let real = scale * (Float(dst) + 0.5) - 0.5
            let i0 = Int(floorf(real))
            let t = real - Float(i0)
            indices.append((-1...2).map { min(max(i0 + $0, 0), input - 1) })
            weights.append(cubicWeights(t))
        case .area:
            let start = (dst * input) / output, end = ((dst + 1) * input + output - 1) / output
            indices.append(Array(start..<end))
            weights.append(Array(repeating: 1 / Float(end - start), count: end - start))
        }
    }
    return AxisTaps(indices: indices, weights: weights)
}

/// Keys' cubic convolution weights with A = -0.75, PyTorch's `get_cubic_upsample_coefficients`.
private func cubicWeights(_ t: Float) -> [Float] {
    let a: Float = -0.75
    func near(_ x: Float) -> Float { ((a + 2) * x - (a + 3)) * x * x + 1 }
    func far(_ x: Float) -> Float { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]
}

extension Tensor {
    /// Resizes the last two dimensions to `height` x `width`.
    public func resized(height: Int, width: Int, mode: ResizeMode) throws -> Tensor {
        try requireShape(rank >= 2, "resize needs [..., H, W], got \(shape)")
        guard height > 0, width > 0 else { throw TensorError.invalidArgument("resize to \(height)x\(width)") }
        let h = dim(-2), w = dim(-1)
        try requireShape(h > 0 && w > 0, "cannot resize an empty image \(shape)")
        let rows = axisTaps(mode, input: h, output: height), cols = axisTaps(mode, input: w, output: width)
        var outShape = shape
        outShape[rank - 2] = height
        outShape[rank - 1] = width
        let planes = count / (h * w)
        return withUnsafeBufferPointer { src in
            Tensor(shape: outShape) { out in
                parallelFor(planes) { plane in
                    let input = src.baseAddress! + plane * h * w
                    let output = out.baseAddress! + plane * height * width
                    for y in 0..<height {
                        let ry = rows.indices[y], wy = rows.weights[y]
                        for x in 0..<width {
                            let rx = cols.indices[x], wx = cols.weights[x]
                            var total: Float = 0
                            for (iy, weightY) in zip(ry, wy) {
                                var rowSum: Float = 0
                                for (ix, weightX) in zip(rx, wx) { rowSum += weightX * input[iy * w + ix] }
                                total += weightY * rowSum
                            }
                            output[y * width + x] = total
                        }
                    }
                }
            }
        }
    }
}
