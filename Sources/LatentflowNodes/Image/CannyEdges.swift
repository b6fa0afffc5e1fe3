import Foundation
import LatentflowTensor

/// Canny edge detection as kornia computes it: greyscale, 5x5 Gaussian blur (σ 1, reflected
/// borders), unnormalised Sobel gradients (replicated borders), non-maximum suppression along the
/// gradient direction rounded to 45°, double threshold, then hysteresis (weak edges 8-connected
/// to strong ones are kept). Edges come out as 0 or 1.
///
/// Matches: kornia 0.8 `kornia.filters.canny` (`rgb_to_grayscale`, `gaussian_blur2d`,
/// `spatial_gradient`, `get_canny_nms_kernel`, `get_hysteresis_kernel`).
enum CannyEdges {
    /// Edges of one `height` x `width` greyscale plane.
    static func edges(_ gray: [Float], height: Int, width: Int, low: Float, high: Float) -> [Float] {
        let blurred = gaussianBlur(gray, height: height, width: width)
        let (gx, gy) = sobel(blurred, height: height, width: width)
        let count = height * width
        var magnitude = [Float](repeating: 0, count: count)
        for i in 0..<count { magnitude[i] = (gx[i] * gx[i] + gy[i] * gy[i] + 1e-6).squareRoot() }
        // kornia's NMS kernel k compares with the neighbour at offsets[k] (zero outside the image).
        let offsets = [(0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1)]
        func neighbour(_ y: Int, _ x: Int, _ k: Int) -> Float {
            let (ny, nx) = (y + offsets[k].0, x + offsets[k].1)
            return ny >= 0 && ny < height && nx >= 0 && nx < width ? magnitude[ny * width + nx] : 0
        }
        var state = [UInt8](repeating: 0, count: count)  // 0 none, 1 weak, 2 strong
        for y in 0..<height {
            for x in 0..<width {
                let i = y * width + x
                let angle = (Foundation.atan2(gy[i], gx[i]) * Float(4 / Double.pi)).rounded(.toNearestOrEven)
                let positive = Int(angle).modulo(8), negative = (Int(angle) + 4).modulo(8)
                let m = magnitude[i]
                let isMax = min(m - neighbour(y, x, positive), m - neighbour(y, x, negative)) > 0
                let kept = isMax ? m : 0
                state[i] = kept > high ? 2 : kept > low ? 1 : 0
            }
        }
        // Hysteresis: kornia repeats "a weak pixel next to a strong one becomes strong" until
        // nothing changes, the same as a flood fill from the strong pixels through weak ones.
        var stack = (0..<count).filter { state[$0] == 2 }
        while let i = stack.popLast() {
            let (y, x) = (i / width, i % width)
            for dy in -1...1 {
                for dx in -1...1 where dy != 0 || dx != 0 {
                    let (ny, nx) = (y + dy, x + dx)
                    guard ny >= 0, ny < height, nx >= 0, nx < width, state[ny * width + nx] == 1 else { continue }
                    state[ny * width + nx] = 2
                    stack.append(ny * width + nx)
                }
            }
        }
        return state.map { $0 == 2 ? 1 : 0 }
    }

    /// The normalised 5-tap Gaussian of σ 1, applied along rows then columns, reflected borders.
    static func gaussianBlur(_ plane: [Float], height: Int, width: Int) -> [Float] {
        let taps = (-2...2).map { Foundation.exp(-Float($0 * $0) / 2) }
        let sum = taps.reduce(0, +)
        let kernel = taps.map { $0 / sum }
        func reflect(_ i: Int, _ n: Int) -> Int { i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i }
        var rows = [Float](repeating: 0, count: plane.count)
        for y in 0..<height {
            for x in 0..<width {
                var v: Float = 0
                for k in 0..<5 { v += kernel[k] * plane[y * width + reflect(x + k - 2, width)] }
                rows[y * width + x] = v
            }
        }
        var out = [Float](repeating: 0, count: plane.count)
        for y in 0..<height {
            for x in 0..<width {
                var v: Float = 0
                for k in 0..<5 { v += kernel[k] * rows[reflect(y + k - 2, height) * width + x] }
                out[y * width + x] = v
            }
        }
        return out
    }

    /// Unnormalised 3x3 Sobel gradients (x: right minus left), replicated borders.
    static func sobel(_ plane: [Float], height: Int, width: Int) -> (gx: [Float], gy: [Float]) {
        let kx: [[Float]] = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
        var gx = [Float](repeating: 0, count: plane.count), gy = gx
        for y in 0..<height {
            for x in 0..<width {
                var sx: Float = 0, sy: Float = 0
                for dy in 0..<3 {
                    for dx in 0..<3 {
                        let v = plane[min(max(y + dy - 1, 0), height - 1) * width + min(max(x + dx - 1, 0), width - 1)]
                        sx += kx[dy][dx] * v
                        sy += kx[dx][dy] * v
                    }
                }
                gx[y * width + x] = sx
                gy[y * width + x] = sy
            }
        }
        return (gx, gy)
    }
}

extension Int {
    /// The remainder with the sign of the divisor (Python's and torch's `%`).
    fileprivate func modulo(_ n: Int) -> Int { ((self % n) + n) % n }
}
