import LatentflowTensor

/// Merges one model's weights into a copy of another's, as ComfyUI's merge nodes do: each key
/// of the second model becomes a "diff" patch on the first (`ModelPatcher.add_patches(patches,
/// strength_patch, strength_model)`), which `comfy.lora.calculate_weight` applies as
/// `W = W₁ · strength_model + strength_patch · W₂` in float32 and casts back to the weight's dtype.
/// The second model's weights arrive with its own patches (LoRAs, earlier merges) already applied,
/// which is what `get_key_patches` hands over; patches applied to the result later compose on top,
/// in ComfyUI's order.
public enum WeightMerge {
    /// The two strengths for one key, nil to leave it out.
    public struct Strengths: Sendable, Equatable {
        public var patch: Double
        public var model: Double
        public init(patch: Double, model: Double) { (self.patch, self.model) = (patch, model) }
    }

    public struct Result: Sendable {
        public var weights: [String: Parameter]
        public var mergedKeys: Int
        /// Keys both models hold with different shapes: left as the first model has them
        /// (ComfyUI: "WARNING SHAPE MISMATCH … WEIGHT NOT MERGED").
        public var shapeMismatches: [String]
    }

    /// - Parameters:
    ///   - strengths: per key of `other`; keys `base` lacks are skipped, as `add_patches` skips them.
    ///   - float16Weights: round merged weights back to float16 (text encoders kept in float16).
    public static func merge(
        _ base: [String: Parameter], with other: [String: Parameter], float16Weights: Bool = false,
        strengths: (String) -> Strengths?
    ) throws -> Result {
        var merged = base
        var count = 0
        var mismatches: [String] = []
        for key in other.keys.sorted() {
            guard let weight = base[key], let patch = other[key], let strength = strengths(key) else { continue }
            guard weight.shape == patch.shape else {
                mismatches.append("\(key): \(patch.shape) vs \(weight.shape)")
                continue
            }
            var updated = weight.tensor()
            if strength.model != 1 { updated = updated.scaled(by: Float(strength.model)) }
            if strength.patch != 0 {
                updated = try updated.adding(patch.tensor().scaled(by: Float(strength.patch)))
            }
            merged[key] = weight.replaced(by: updated, float16Weights: float16Weights)
            count += 1
        }
        return Result(weights: merged, mergedKeys: count, shapeMismatches: mismatches)
    }

    /// ModelMergeBlocks' choice of ratio for an LDM UNet key: the longest block-name prefix that
    /// starts the key, else `defaultRatio` (ComfyUI: the first ratio input).
    public static func blockRatio(_ key: String, ratios: [(prefix: String, ratio: Double)], defaultRatio: Double)
        -> Double
    {
        var ratio = defaultRatio, longest = 0
        for (prefix, value) in ratios where key.hasPrefix(prefix) && prefix.count > longest {
            (ratio, longest) = (value, prefix.count)
        }
        return ratio
    }
}
