import LatentflowTensor

/// The MLP nonlinearity of a CLIP text tower: OpenAI's CLIP uses quick-GELU, OpenCLIP exact GELU.
public enum CLIPActivation: String, Sendable, Equatable {
    case quickGELU = "quick_gelu", gelu
}

/// The shape of a CLIP text tower and how ComfyUI drives it; OpenAI ViT-L/14's (SD1.x) by default.
public struct CLIPTextConfiguration: Sendable, Equatable {
    public var vocabularySize = 49408
    public var positions = 77
    public var width = 768
    public var layers = 12
    public var heads = 12
    public var mlpWidth = 3072
    public var activation = CLIPActivation.quickGELU
    /// What fills a chunk after its end token: the end token for OpenAI's CLIP, 0 for OpenCLIP
    /// (ComfyUI's `pad_with_end=False` for SD2).
    public var padToken = CLIPTokenizer.endToken
    /// The layer read when no CLIPSetLastLayer says otherwise. SD2 reads OpenCLIP ViT-H's
    /// penultimate layer (-2): it was trained on that, and the last layer was never used.
    public var defaultLastLayer = -1
    /// The key textual-inversion files keep this encoder's vectors under.
    public var embeddingKey = "clip_l"

    public static let vitL14 = CLIPTextConfiguration()
    /// SD2.x's text tower, OpenCLIP ViT-H/14: 24 layers of width 1024, GELU.
    public static let openCLIPViTH14: CLIPTextConfiguration = {
        var config = CLIPTextConfiguration()
        (config.width, config.layers, config.heads, config.mlpWidth) = (1024, 24, 16, 4096)
        config.useOpenCLIPConventions()
        return config
    }()

    public init() {}

    /// OpenCLIP's GELU, zero padding, the SD2 default layer and textual-inversion key.
    mutating func useOpenCLIPConventions(penultimateByDefault: Bool = true) {
        activation = .gelu
        padToken = 0
        defaultLastLayer = penultimateByDefault ? -2 : -1
        embeddingKey = "clip_h"
    }

    /// Reads the configuration off HF-layout weights (`text_model.*`).
    public static func detect(_ scope: WeightScope) throws -> CLIPTextConfiguration {
        let store = scope.store
        let shape = scope.shape(of:)
        guard let embedding = shape("embeddings.token_embedding.weight") else {
            throw ModelLoadError.unrecognized(
                file: store.source,
                reason: "no CLIP text model found (missing \(scope.prefix).embeddings.token_embedding.weight)")
        }
        var config = CLIPTextConfiguration()
        config.vocabularySize = embedding[0]
        config.width = embedding[1]
        config.positions = shape("embeddings.position_embedding.weight")?[0] ?? 77
        var layers = 0
        while shape("encoder.layers.\(layers).layer_norm1.weight") != nil { layers += 1 }
        config.layers = layers
        config.mlpWidth = shape("encoder.layers.0.mlp.fc1.weight")?[0] ?? config.width * 4
        config.heads = max(1, config.width / 64)
        return config
    }
}
