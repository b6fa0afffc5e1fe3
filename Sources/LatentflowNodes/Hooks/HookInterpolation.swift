import Foundation

/// The curves CreateHookKeyframesInterpolated spreads strengths along, computed in float32 as
/// ComfyUI computes them (torch.linspace, then numpy on its float32 result).
///
/// Matches: ComfyUI `comfy/hooks.py` `InterpolationMethod.get_weights`.
public enum HookInterpolation: String, CaseIterable, Sendable {
    case linear
    case easeIn = "ease_in"
    case easeOut = "ease_out"
    case easeInOut = "ease_in_out"

    public static let names = allCases.map(\.rawValue)

    /// `count` values from `from` to `to` along the curve.
    public func weights(from: Double, to: Double, count: Int) -> [Float] {
        let diff = Float(to - from), start = Float(from)
        switch self {
        case .linear: return Self.linspace(Float(from), Float(to), count)
        case .easeIn: return Self.linspace(0, 1, count).map { diff * ($0 * $0) + start }
        case .easeOut:
            return Self.linspace(0, 1, count).map { index in
                let rest = 1 - index
                return diff * (1 - rest * rest) + start
            }
        case .easeInOut:
            // np.pi rounded to float32 (Float.pi is rounded toward zero, one ulp below it).
            let pi = Float(Double.pi)
            return Self.linspace(0, 1, count).map { index in diff * ((1 - cos(index * pi)) / 2) + start }
        }
    }

    /// torch.linspace in float32 (its CPU kernel): the first half counts up from `start`, the
    /// second half down from `end`, by one float32 step, each value one fused multiply-add (as
    /// the compiled kernel computes `start + step * idx`).
    static func linspace(_ start: Float, _ end: Float, _ count: Int) -> [Float] {
        guard count > 1 else { return count == 1 ? [start] : [] }
        let step = (end - start) / Float(count - 1)
        let halfway = count / 2
        return (0..<count).map { index in
            index < halfway
                ? start.addingProduct(step, Float(index)) : end.addingProduct(-step, Float(count - index - 1))
        }
    }
}
