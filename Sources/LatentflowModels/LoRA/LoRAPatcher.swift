import LatentflowTensor

/// Applies LoRA patches to a copy of a model's weights; the base weights are never modified, so
/// removing or changing a LoRA needs no reload.
public enum LoRAPatcher {
    public struct Result: Sendable {
        public var weights: [String: Parameter]
        public var patchedKeys: Int
        /// LoRA base names that matched no weight of this model.
        public var unmatched: [String]
    }

    /// `W' = W + strength · ΔW` for every patch whose name maps to a weight here; computed in
    /// float32, then kept as the weight was (`Parameter.replaced`: ComfyUI casts to the weight's
    /// dtype): float16 when `float16Weights`, bfloat16 for a UNet stored in bfloat16, and float16 for a
    /// weight left in its file (low-memory mode), so a LoRA over the whole UNet does not bring back
    /// the float32 copy low-memory mode avoids.
    public static func apply(
        _ lora: LoRAFile, to weights: [String: Parameter], keyMap: [String: String],
        strength: Double, float16Weights: Bool = false
    ) throws -> Result {
        var patched = weights
        var count = 0
        var unmatched: [String] = []
        for (base, patch) in lora.patches.sorted(by: { $0.key < $1.key }) {
            guard let key = target(base, keyMap), let weight = patched[key] else {
                unmatched.append(base)
                continue
            }
            let delta: Tensor
            do { delta = try patch.delta(shape: weight.shape) } catch {
                throw ModelLoadError.unrecognized(
                    file: lora.path, reason: "LoRA patch '\(base)' does not fit \(key) \(weight.shape): \(error)")
            }
            let updated = try weight.tensor().adding(delta.scaled(by: Float(strength)))
            patched[key] = weight.replaced(by: updated, float16Weights: float16Weights)
            count += 1
        }
        return Result(weights: patched, patchedKeys: count, unmatched: unmatched)
    }

    /// The LoRA base names `apply` would leave unmatched, without patching anything (for a model whose
    /// strength is 0: its keys still count as matched, as ComfyUI's key map covers both models).
    public static func unmatched(
        _ lora: LoRAFile, in weights: [String: Parameter], keyMap: [String: String]
    ) -> [String] {
        lora.patches.keys.filter { base in target(base, keyMap).flatMap { weights[$0] } == nil }.sorted()
    }

    /// The weight a patch name targets: the key map's, or for `<base>.bias` (a `.diff_b`) the bias
    /// beside the weight `<base>` maps to.
    static func target(_ base: String, _ keyMap: [String: String]) -> String? {
        if let key = keyMap[base] { return key }
        guard base.hasSuffix(".bias"), let weight = keyMap[String(base.dropLast(".bias".count))],
            weight.hasSuffix(".weight")
        else { return nil }
        return weight.dropLast(".weight".count) + ".bias"
    }
}
