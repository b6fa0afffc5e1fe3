import LatentflowTensor

/// Another model's weights used as a patch (ComfyUI's `model_as_lora` weight patch):
/// `W' = W + strength · (target − original)` for each weight both models have with the same shape.
public enum ModelAsLoRA {
    /// - Parameters:
    ///   - weights: the weights to patch (possibly patched already).
    ///   - original: the unpatched weights the difference is taken from.
    public static func apply(
        _ target: [String: Parameter], to weights: [String: Parameter], original: [String: Parameter],
        strength: Double
    ) throws -> [String: Parameter] {
        var patched = weights
        for (key, targetWeight) in target.sorted(by: { $0.key < $1.key }) {
            guard let weight = patched[key], let base = original[key], weight.shape == targetWeight.shape,
                base.shape == weight.shape
            else { continue }
            let difference = try targetWeight.tensor().subtracting(try base.tensor())
            patched[key] = weight.replaced(by: try weight.tensor().adding(difference.scaled(by: Float(strength))))
        }
        return patched
    }
}
