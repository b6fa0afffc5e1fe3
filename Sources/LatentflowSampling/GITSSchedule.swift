import Foundation

/// GITS (Geometry-Inspired Time Scheduling, Chen et al. 2024): SD1.5 schedules found by search,
/// one row per step count up to 20 and per coeff (0.80 to 1.50 in steps of 0.05); more steps
/// stretch the 20-step row log-linearly. The last sigma is set to 0.
///
/// Matches: ComfyUI `comfy_extras/nodes_gits.py` `GITSScheduler.get_sigmas` and `loglinear_interp`.
public enum GITSSchedule {
    /// - Parameter denoise: below 1, the last round(steps·denoise) steps (Python's round: half to even).
    public static func sigmas(coeff: Double, steps: Int, denoise: Double) throws -> [Float] {
        let key = Int((coeff * 100).rounded())
        guard let table = noiseLevels[key], abs(coeff * 100 - Double(key)) < 0.5 else {
            throw SamplingError(
                "GITSScheduler: coeff \(coeff) has no GITS table (it takes 0.80 to 1.50 in steps of 0.05)")
        }
        guard steps >= 2 else { throw SamplingError("GITSScheduler: steps must be at least 2, got \(steps)") }
        var total = steps
        if denoise < 1 {
            if denoise <= 0 { return [] }
            total = Int((Double(steps) * denoise).rounded(.toNearestOrEven))
        }
        let row = steps <= 20 ? table[steps - 2] : logLinearInterpolation(table[table.count - 1], count: steps + 1)
        var sigmas = Array(row.suffix(total + 1))
        sigmas[sigmas.count - 1] = 0
        return sigmas.map { Float($0) }
    }

    /// `np.interp` of log σ over `np.linspace(0, 1, ·)` (ascending), in float64.
    static func logLinearInterpolation(_ decreasing: [Double], count: Int) -> [Double] {
        let ys = decreasing.reversed().map { log($0) }
        let xs = numpyLinspace(ys.count), targets = numpyLinspace(count)
        let values = targets.map { x -> Double in
            if x <= xs[0] { return ys[0] }
            if x >= xs[xs.count - 1] { return ys[ys.count - 1] }
            var j = 0
            while xs[j + 1] <= x { j += 1 }
            let slope = (ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j])
            return slope * (x - xs[j]) + ys[j]
        }
        return Array(values.map { exp($0) }.reversed())
    }

    /// `np.linspace(0, 1, n)`: i·(1 / (n − 1)), the last exactly 1.
    static func numpyLinspace(_ n: Int) -> [Double] {
        guard n > 1 else { return n == 1 ? [0] : [] }
        let step = 1.0 / Double(n - 1)
        return (0..<n).map { $0 == n - 1 ? 1 : Double($0) * step }
    }
}
