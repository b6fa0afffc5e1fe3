import LatentflowTensor

/// One pre-LayerNorm transformer block of a CLIP tower (HF `CLIPEncoderLayer`): self-attention,
/// then a (quick-)GELU MLP, each with a residual. The text tower attends causally, the vision
/// tower to every patch.
struct CLIPEncoderLayer: Sendable {
    let norm1: LayerNorm, query: Linear, key: Linear, value: Linear, output: Linear
    let norm2: LayerNorm, fc1: Linear, fc2: Linear
    let heads: Int
    let activation: CLIPActivation

    init(_ scope: WeightScope, width w: Int, mlpWidth: Int, heads: Int, activation: CLIPActivation) {
        norm1 = LayerNorm(scope["layer_norm1"], width: w)
        query = Linear(scope["self_attn.q_proj"], in: w, out: w)
        key = Linear(scope["self_attn.k_proj"], in: w, out: w)
        value = Linear(scope["self_attn.v_proj"], in: w, out: w)
        output = Linear(scope["self_attn.out_proj"], in: w, out: w)
        norm2 = LayerNorm(scope["layer_norm2"], width: w)
        fc1 = Linear(scope["mlp.fc1"], in: w, out: mlpWidth)
        fc2 = Linear(scope["mlp.fc2"], in: mlpWidth, out: w)
        self.heads = heads
        self.activation = activation
    }

    func callAsFunction(_ x: Tensor, causal: Bool) throws -> Tensor {
        let h = try norm1(x)
        let attended = try query(h).attention(key: key(h), value: value(h), heads: heads, causal: causal)
        let x = try x.adding(output(attended))
        let hidden = try fc1(norm2(x))
        return try x.adding(fc2(activation == .gelu ? hidden.gelu() : hidden.quickGELU()))
    }
}
