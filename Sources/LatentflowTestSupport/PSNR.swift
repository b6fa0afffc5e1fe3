import Foundation
import LatentflowTensor

/// Peak signal-to-noise ratio of `actual` against `reference` in dB, the peak being the
/// reference's range (max − min). The mean squared error is floored at 1e-30, so identical tensors
/// give a large finite figure, not infinity.
public func psnr(_ actual: Tensor, reference: Tensor) -> Double {
    let peak = Double((reference.scalars.max() ?? 0) - (reference.scalars.min() ?? 0))
    let mse =
        zip(actual.scalars, reference.scalars).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
        / Double(reference.count)
    return 10 * log10(peak * peak / max(mse, 1e-30))
}
