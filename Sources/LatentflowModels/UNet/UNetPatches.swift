import LatentflowTensor

/// What a patch is told about the UNet call it runs in (the parts of ComfyUI's
/// `transformer_options` the patches read).
public struct UNetCallInfo: Sendable {
    /// The sigma of this call (`transformer_options["sigmas"][0]`); nil when the caller has none.
    public var sigma: Float?
    /// The shape of the latent the UNet was called with (`original_shape`), `[N, C, H, W]`.
    public var originalShape: [Int]

    public init(sigma: Float?, originalShape: [Int]) { (self.sigma, self.originalShape) = (sigma, originalShape) }
}

/// The patch points ComfyUI's `UNetModel` and `BasicTransformerBlock` offer through
/// `transformer_options["patches"]`, each a list run in order. A MODEL carries them; patch nodes
/// append to a copy (ComfyUI's `ModelPatcher.set_model_*_patch`).
public struct UNetPatches: Sendable {
    /// `input_block_patch` / `input_block_patch_after_skip`: the features after input block `block`,
    /// counted as ComfyUI counts `transformer_options["block"][1]` (0 is `conv_in`).
    public typealias Block = @Sendable (_ h: Tensor, _ block: Int, _ call: UNetCallInfo) throws -> Tensor
    /// `output_block_patch`: the features `h` and the skip connection about to be joined before
    /// output block `block`.
    public typealias OutputBlock =
        @Sendable (_ h: Tensor, _ skip: Tensor, _ block: Int, _ call: UNetCallInfo) throws -> (Tensor, Tensor)
    /// `attn1_patch` / `attn2_patch`: the attention's query input and the sources of its keys and
    /// values (all `[N, tokens, channels]`, before the q/k/v projections).
    public typealias AttentionInput =
        @Sendable (_ q: Tensor, _ k: Tensor, _ v: Tensor, _ call: UNetCallInfo) throws -> (Tensor, Tensor, Tensor)
    /// `attn1_output_patch`: the attention's output after `to_out`.
    public typealias AttentionOutput = @Sendable (_ out: Tensor, _ call: UNetCallInfo) throws -> Tensor

    public var inputBlock: [Block] = []
    public var inputBlockAfterSkip: [Block] = []
    public var outputBlock: [OutputBlock] = []
    public var attn1: [AttentionInput] = []
    public var attn1Output: [AttentionOutput] = []
    public var attn2: [AttentionInput] = []

    public init() {}

    public var hasAttentionPatches: Bool { !(attn1.isEmpty && attn1Output.isEmpty && attn2.isEmpty) }

    func applyBlock(_ patches: [Block], _ h: Tensor, block: Int, _ call: UNetCallInfo) throws -> Tensor {
        try patches.reduce(h) { try $1($0, block, call) }
    }

    func applyOutputBlock(_ h: Tensor, skip: Tensor, block: Int, _ call: UNetCallInfo) throws -> (Tensor, Tensor) {
        try outputBlock.reduce((h, skip)) { try $1($0.0, $0.1, block, call) }
    }
}

/// The attention patches of one UNet call, handed down to its transformer blocks.
struct AttentionPatchCall: Sendable {
    let patches: UNetPatches
    let call: UNetCallInfo

    /// ComfyUI `BasicTransformerBlock._forward`: an `attn1_patch` sees the normed tokens as
    /// query, key and value source alike, or the text as key and value source where the block's
    /// self-attention is disabled (`context`).
    func selfAttention(
        _ n: Tensor, _ attention: Attention, context: Tensor? = nil, replacement: AttentionReplacement? = nil
    ) throws -> Tensor {
        var (q, k, v) = (n, context ?? n, context ?? n)
        for patch in patches.attn1 { (q, k, v) = try patch(q, k, v, call) }
        var out = try attention(q, context: k, value: v, replacement: replacement)
        for patch in patches.attn1Output { out = try patch(out, call) }
        return out
    }

    func crossAttention(_ n: Tensor, context: Tensor, _ attention: Attention) throws -> Tensor {
        var (q, k, v) = (n, context, context)
        for patch in patches.attn2 { (q, k, v) = try patch(q, k, v, call) }
        return try attention(q, context: k, value: v)
    }
}
