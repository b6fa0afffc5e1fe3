import LatentflowTensor

/// The shape of a CLIP image tower, read off its weights.
public struct CLIPVisionConfiguration: Sendable, Equatable {
    public var width: Int
    public var layers: Int
    public var heads: Int
    public var mlpWidth: Int
    public var patchSize: Int
    public var imageSize: Int
    public var projectionWidth: Int
    public var activation: CLIPActivation

    /// Reads HF-layout weights (`vision_model.*`, `visual_projection.weight`). ComfyUI knows the
    /// released towers by depth: 48 layers ViT-bigG, 31+ ViT-H/14, 23+ ViT-L/14 (quick-GELU; 577
    /// positions mean the 336 px variant), all with 16 heads; smaller towers (tests) get one head
    /// per 64 channels and quick-GELU.
    public static func detect(_ scope: WeightScope) throws -> CLIPVisionConfiguration {
        let vision = scope["vision_model"]
        guard let patch = try vision.checkedShape("embeddings.patch_embedding.weight", rank: 4) else {
            throw ModelLoadError.unrecognized(
                file: scope.store.source,
                reason: "no CLIP vision model found (missing vision_model.embeddings.patch_embedding.weight)")
        }
        try vision.require(
            patch[1] == 3 && patch[2] == patch[3], "embeddings.patch_embedding.weight",
            expected: "[width, 3, patch, patch]")
        let width = patch[0], patchSize = patch[2]
        let positions = try vision.checkedShape("embeddings.position_embedding.weight", rank: 2)?[0] ?? 0
        let grid = Int(Double(max(positions - 1, 0)).squareRoot().rounded())
        try vision.require(
            grid > 0 && grid * grid + 1 == positions, "embeddings.position_embedding.weight",
            expected: "[1 + patches, width] with a square patch grid")
        var layers = 0
        while vision.has("encoder.layers.\(layers).layer_norm1.weight") { layers += 1 }
        guard layers > 0 else {
            throw ModelLoadError.unrecognized(
                file: scope.store.source, reason: "the CLIP vision model has no encoder layers")
        }
        let mlpWidth = try vision.checkedShape("encoder.layers.0.mlp.fc1.weight", rank: 2)?[0] ?? width * 4
        let projection = try scope.checkedShape("visual_projection.weight", rank: 2)?[0] ?? width
        let released = layers >= 23
        return CLIPVisionConfiguration(
            width: width, layers: layers, heads: released ? 16 : max(1, width / 64), mlpWidth: mlpWidth,
            patchSize: patchSize, imageSize: grid * patchSize, projectionWidth: projection,
            activation: layers >= 31 ? .gelu : .quickGELU)
    }
}

/// What `CLIPVisionEncode` hands on (ComfyUI's CLIP_VISION_OUTPUT): the last layer's states, the
/// second-to-last layer's, and the projected image embedding.
public struct CLIPVisionOutput: Sendable {
    /// `[N, 1 + patches, width]`, without the final LayerNorm (as HF's `last_hidden_state`).
    public let lastHiddenState: Tensor
    /// The output of the second-to-last layer, `[N, 1 + patches, width]`.
    public let penultimateHiddenStates: Tensor
    /// `visual_projection(post_layernorm(class token))`, `[N, projection]`.
    public let imageEmbeds: Tensor
}

/// CLIP's image tower with its projection (HF `CLIPVisionModelWithProjection`, ComfyUI
/// `clip_model.CLIPVisionModelProjection`): patch embedding, class token, positions, a pre-LayerNorm
/// (`pre_layrnorm`, HF's spelling), the encoder, then post-LayerNorm and projection of the class token.
public struct CLIPVisionModel: Sendable {
    public let config: CLIPVisionConfiguration
    let patchEmbedding: Conv2D
    let classEmbedding: Tensor
    let positionEmbedding: Tensor
    let preNorm: LayerNorm
    let layers: [CLIPEncoderLayer]
    let postNorm: LayerNorm
    let projection: Linear

    public init(_ scope: WeightScope, config: CLIPVisionConfiguration) {
        self.config = config
        let vision = scope["vision_model"], w = config.width
        patchEmbedding = Conv2D(
            vision["embeddings.patch_embedding"], in: 3, out: w, kernel: config.patchSize, stride: config.patchSize,
            padding: 0, bias: false)
        classEmbedding = vision.tensor("embeddings.class_embedding", shape: [w])
        let patches = (config.imageSize / config.patchSize) * (config.imageSize / config.patchSize)
        positionEmbedding = vision.tensor("embeddings.position_embedding.weight", shape: [patches + 1, w])
        preNorm = LayerNorm(vision["pre_layrnorm"], width: w)
        layers = (0..<config.layers).map {
            CLIPEncoderLayer(
                vision["encoder.layers.\($0)"], width: w, mlpWidth: config.mlpWidth, heads: config.heads,
                activation: config.activation)
        }
        postNorm = LayerNorm(vision["post_layernorm"], width: w)
        projection = Linear(scope["visual_projection"], in: w, out: config.projectionWidth, bias: false)
    }

    /// Encodes preprocessed pixels `[N, 3, imageSize, imageSize]` (see `CLIPImagePreprocessing`).
    public func encode(_ pixels: Tensor) throws -> CLIPVisionOutput {
        let size = config.imageSize
        guard pixels.rank == 4, pixels.dim(1) == 3, pixels.dim(2) == size, pixels.dim(3) == size else {
            throw TensorError.invalidArgument("CLIP vision takes [N, 3, \(size), \(size)] pixels, got \(pixels.shape)")
        }
        let n = pixels.dim(0), w = config.width
        let grid = try patchEmbedding(pixels)  // [N, width, g, g]
        let patches = grid.dim(2) * grid.dim(3)
        let tokens = try grid.reshaped([n, w, patches]).permuted([0, 2, 1])  // [N, patches, width]
        var x = Tensor(shape: [n, patches + 1, w]) { out in
            tokens.withUnsafeBufferPointer { t in
                classEmbedding.withUnsafeBufferPointer { cls in
                    positionEmbedding.withUnsafeBufferPointer { pos in
                        for row in 0..<n {
                            for c in 0..<w { out[row * (patches + 1) * w + c] = cls[c] + pos[c] }
                            for p in 0..<patches {
                                for c in 0..<w {
                                    out[(row * (patches + 1) + p + 1) * w + c] =
                                        t[(row * patches + p) * w + c] + pos[(p + 1) * w + c]
                                }
                            }
                        }
                    }
                }
            }
        }
        x = try preNorm(x)
        var penultimate = x
        for (index, layer) in layers.enumerated() {
            x = try layer(x, causal: false)
            if index == layers.count - 2 { penultimate = x }
        }
        let classTokens = Tensor(shape: [n, w]) { out in
            x.withUnsafeBufferPointer { h in
                for row in 0..<n { for c in 0..<w { out[row * w + c] = h[row * (patches + 1) * w + c] } }
            }
        }
        return CLIPVisionOutput(
            lastHiddenState: x, penultimateHiddenStates: penultimate,
            imageEmbeds: try projection(postNorm(classTokens)))
    }
}
