import Foundation

extension Tensor {
    /// The 2-D Fourier filter of FreSca and FreeU on `[N, C, H, W]`: FFT over (H, W), `fftshift`,
    /// a mask that is `inside` on the centred box of rows `[H/2 − rows, H/2 + rows)` and columns
    /// `[W/2 − cols, W/2 + cols)` (the caller clamps them to H/2 and W/2) and `outside` elsewhere,
    /// then `ifftshift`, inverse FFT, real part.
    ///
    /// A two-valued mask needs no full transform: the result is outside·x + (inside − outside)·P(x),
    /// P the projection onto the box's frequencies, which is separable. It is applied along W, then
    /// H, then back (O(H·W·cols + H·rows·cols) per plane, in double), so any size works. The box is
    /// one-sided for even lengths (it holds −rows but not +rows), which is why the real part is taken.
    public func fourierBoxScaled(rows: Int, cols: Int, inside: Float, outside: Float) throws -> Tensor {
        guard rank == 4 else { throw TensorError.shapeMismatch("the Fourier filter needs [N, C, H, W], got \(shape)") }
        let (planes, height, width) = (dim(0) * dim(1), dim(2), dim(3))
        let rowFrequencies = Self.centredFrequencies(length: height, halfWidth: rows)
        let colFrequencies = Self.centredFrequencies(length: width, halfWidth: cols)
        var out = scaled(by: outside)
        guard inside != outside, !rowFrequencies.isEmpty, !colFrequencies.isEmpty else { return out }
        let rowTwiddles = Twiddles(frequencies: rowFrequencies, length: height)
        let colTwiddles = Twiddles(frequencies: colFrequencies, length: width)
        let gain = Double(inside - outside) / Double(height * width)
        let (kr, kc) = (rowFrequencies.count, colFrequencies.count)
        withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                var re = [Double](repeating: 0, count: height * kc), im = re
                var boxRe = [Double](repeating: 0, count: kr * kc), boxIm = boxRe
                for plane in 0..<planes {
                    let base = plane * height * width
                    // Along W: Y[y, v] = Σ_x x[y, x]·e^{−iθ}.
                    for y in 0..<height {
                        for v in 0..<kc {
                            var (a, b) = (0.0, 0.0)
                            for x in 0..<width {
                                let value = Double(src[base + y * width + x])
                                a += value * colTwiddles.cos[v * width + x]
                                b -= value * colTwiddles.sin[v * width + x]
                            }
                            (re[y * kc + v], im[y * kc + v]) = (a, b)
                        }
                    }
                    // Along H: X[u, v] = Σ_y Y[y, v]·e^{−iθ}.
                    for u in 0..<kr {
                        for v in 0..<kc {
                            var (a, b) = (0.0, 0.0)
                            for y in 0..<height {
                                let (c, s) = (rowTwiddles.cos[u * height + y], rowTwiddles.sin[u * height + y])
                                let (yr, yi) = (re[y * kc + v], im[y * kc + v])
                                a += yr * c + yi * s
                                b += yi * c - yr * s
                            }
                            (boxRe[u * kc + v], boxIm[u * kc + v]) = (a, b)
                        }
                    }
                    // Back along H: Z[y, v] = Σ_u X[u, v]·e^{iθ} (into re/im).
                    for y in 0..<height {
                        for v in 0..<kc {
                            var (a, b) = (0.0, 0.0)
                            for u in 0..<kr {
                                let (c, s) = (rowTwiddles.cos[u * height + y], rowTwiddles.sin[u * height + y])
                                let (xr, xi) = (boxRe[u * kc + v], boxIm[u * kc + v])
                                a += xr * c - xi * s
                                b += xr * s + xi * c
                            }
                            (re[y * kc + v], im[y * kc + v]) = (a, b)
                        }
                    }
                    // Back along W, real part: Σ_v Re(Z[y, v]·e^{iθ}).
                    for y in 0..<height {
                        for x in 0..<width {
                            var sum = 0.0
                            for v in 0..<kc {
                                let (c, s) = (colTwiddles.cos[v * width + x], colTwiddles.sin[v * width + x])
                                sum += re[y * kc + v] * c - im[y * kc + v] * s
                            }
                            dst[base + y * width + x] += Float(gain * sum)
                        }
                    }
                }
            }
        }
        return out
    }

    /// The frequencies at shifted indices `[n/2 − h, n/2 + h)`: index i holds `(i − n/2) mod n`.
    static func centredFrequencies(length n: Int, halfWidth h: Int) -> [Int] {
        guard n > 0, h > 0 else { return [] }
        let centre = n / 2
        let (start, stop) = (max(0, centre - h), min(n, centre + h))
        guard start < stop else { return [] }
        return (start..<stop).map { (($0 - centre) % n + n) % n }
    }

    /// cos and sin of 2π·k·i/n, row-major by frequency.
    private struct Twiddles {
        let cos: [Double], sin: [Double]
        init(frequencies: [Int], length n: Int) {
            let angles = frequencies.flatMap { k in (0..<n).map { 2 * Double.pi * Double((k * $0) % n) / Double(n) } }
            (cos, sin) = (angles.map(Foundation.cos), angles.map(Foundation.sin))
        }
    }
}
