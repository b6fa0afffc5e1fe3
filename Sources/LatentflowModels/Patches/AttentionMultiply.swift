import LatentflowTensor

/// Scales the query, key, value and output projections (weights and biases) of one kind of
/// attention: the UNet's self-attention (`attn1`), its cross-attention (`attn2`), or the CLIP text
/// model's `self_attn`. Each scaled weight is float32 · factor in float32, kept in float32 or
/// rounded to float16 to nearest, as ComfyUI keeps that model on CPU; a factor of 1 leaves the
/// weight as it is.
///
/// Matches: ComfyUI `comfy_extras/nodes_attention_multiply.py` (`attention_multiply` and
/// CLIPAttentionMultiply: `add_patches({key: (None,)}, 0.0, factor)`, which `calculate_weight`
/// applies as `weight *= strength_model`).
public enum AttentionMultiply {
    public struct Factors: Sendable, Equatable {
        public var q: Double, k: Double, v: Double, out: Double
        public init(q: Double, k: Double, v: Double, out: Double) {
            (self.q, self.k, self.v, self.out) = (q, k, v, out)
        }
    }

    /// Which projections a key names: the attention's name and each projection's.
    public enum Layout: Sendable {
        /// The UNet's `attn1` or `attn2` (`to_q`, `to_k`, `to_v`, `to_out.0`).
        case unet(attention: String)
        /// The text model's `self_attn` (`q_proj`, `k_proj`, `v_proj`, `out_proj`).
        case clip

        func factor(for key: String, _ factors: Factors) -> Double? {
            let (prefix, names) =
                switch self {
                case .unet(let attention): (attention, ["to_q", "to_k", "to_v", "to_out.0"])
                case .clip: ("self_attn", ["q_proj", "k_proj", "v_proj", "out_proj"])
                }
            let values = [factors.q, factors.k, factors.v, factors.out]
            for (name, value) in zip(names, values)
            where key.hasSuffix("\(prefix).\(name).weight") || key.hasSuffix("\(prefix).\(name).bias") {
                return value
            }
            return nil
        }
    }

    /// `weights` with the projections of `layout` scaled; how many were changed.
    public static func apply(
        _ factors: Factors, layout: Layout, to weights: [String: Parameter], float16: Bool
    ) -> (weights: [String: Parameter], scaled: Int) {
        var result = weights, count = 0
        for (key, weight) in weights {
            guard let factor = layout.factor(for: key, factors), factor != 1 else { continue }
            let scaled = weight.tensor().scaled(by: Float(factor))
            result[key] = float16 ? Parameter(float16: scaled) : weight.replaced(by: scaled)
            count += 1
        }
        return (result, count)
    }
}
