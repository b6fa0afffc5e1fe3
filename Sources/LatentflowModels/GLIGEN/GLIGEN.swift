import Foundation
import LatentflowIO
import LatentflowTensor

/// A GLIGEN box model (ComfyUI's GLIGEN): one gated self-attention per UNet spatial transformer,
/// in the UNet's order, and the position net that turns boxes into object tokens.
///
/// Matches: ComfyUI `comfy/gligen.py` `Gligen` and `load_gligen`.
public struct GLIGEN: Sendable {
    /// ComfyUI's `max_objs`: the object tokens are always this many, empty slots null-filled.
    public static let maxObjects = 30

    let fusers: [GatedSelfAttention]
    let positionNet: GLIGENPositionNet
    /// The width of the box texts' pooled embeddings (the position net's input).
    public let keyDim: Int
    public let byteCount: Int

    /// Reads the `*.fuser.*` weights of `input_blocks.N`, `middle_block.N` and `output_blocks.N`
    /// (in that order, as ComfyUI's `load_gligen` walks them) and `position_net.*`; other keys are
    /// ignored, as ComfyUI does.
    public init(_ tensors: [String: Tensor], source: String) throws {
        let store = WeightStore(
            tensors.filter { $0.key.contains(".fuser.") || $0.key.hasPrefix("position_net.") }, source: source)
        let scope = store.root
        let net = scope["position_net"]
        guard let null = try net.checkedShape("null_positive_feature", rank: 1),
            let out = try net.checkedShape("linears.4.weight", rank: 2)
        else {
            throw ModelLoadError.unrecognized(
                file: source, reason: "not a GLIGEN model (no position_net.null_positive_feature / linears.4.weight)")
        }
        positionNet = GLIGENPositionNet(net, inDim: null[0], outDim: out[0])
        var fusers: [GatedSelfAttention] = []
        for part in ["input_blocks", "middle_block", "output_blocks"] {
            for block in 0..<20 {
                let keys = tensors.keys.filter { $0.contains("\(part).\(block).") && $0.contains(".fuser.") }.sorted()
                guard let first = keys.first, let cut = first.range(of: ".fuser.") else { continue }
                let fuser = scope[String(first[..<cut.lowerBound]) + ".fuser"]
                guard let linear = try fuser.checkedShape("linear.weight", rank: 2) else {
                    throw ModelLoadError.unrecognized(file: source, reason: "\(fuser.prefix).linear.weight is missing")
                }
                let (queryDim, objectDim) = (linear[0], linear[1])
                try fuser.require(
                    objectDim == out[0], "linear.weight", expected: "[*, \(out[0])] (the position net's output width)")
                let heads = Self.heads(queryDim: queryDim, keyDim: objectDim)
                try fuser.require(
                    heads > 0 && queryDim % heads == 0, "linear.weight",
                    expected: "a width that \(heads) attention heads divide")
                fusers.append(try GatedSelfAttention(fuser, queryDim: queryDim, keyDim: objectDim, heads: heads))
            }
        }
        guard !fusers.isEmpty else {
            throw ModelLoadError.unrecognized(file: source, reason: "not a GLIGEN model (no *.fuser.* weights)")
        }
        try store.verify()
        self.fusers = fusers
        keyDim = null[0]
        byteCount = store.parameters.values.reduce(0) { $0 + $1.residentBytes }
    }

    /// Loads a GLIGEN file (safetensors or a PyTorch pickle), float16 or float32.
    public static func load(path: String) throws -> GLIGEN {
        let file = try openModelFile(path: path)
        var tensors: [String: Tensor] = [:]
        for (key, entry) in try ArchivedTensor.entries(of: file)
        where key.contains(".fuser.") || key.hasPrefix("position_net.") {
            tensors[key] = try entry.tensor()
            entry.releasePages()
        }
        return try GLIGEN(tensors, source: path)
    }

    /// ComfyUI's rule: SD1.x GLIGENs (768-wide texts) have 8 heads, the others 64-wide heads.
    /// Narrower test models (below 768, where 64-wide heads may not fit) keep SD1's 8 heads.
    static func heads(queryDim: Int, keyDim: Int) -> Int {
        keyDim <= 768 ? 8 : queryDim / 64
    }

    /// The grounding for `boxes` on a latent (or area) of `height` × `width` latent pixels:
    /// ComfyUI's `set_position`, boxes as fractions of that size, at most `maxObjects`.
    public func grounding(_ boxes: [GLIGENBox], height: Int, width: Int) throws -> GLIGENGrounding {
        guard boxes.count <= Self.maxObjects else {
            throw TensorError.invalidArgument("GLIGEN takes at most \(Self.maxObjects) boxes, got \(boxes.count)")
        }
        var corners = Array(repeating: [Float](repeating: 0, count: 4), count: Self.maxObjects)
        var present = Array(repeating: false, count: Self.maxObjects)
        var embeddings = [Float](repeating: 0, count: Self.maxObjects * keyDim)
        let (h, w) = (Float(height), Float(width))
        for (slot, box) in boxes.enumerated() {
            guard box.embedding.count == keyDim else {
                throw TensorError.invalidArgument(
                    "GLIGEN box text embedding has \(box.embedding.count) values, the model takes \(keyDim)")
            }
            corners[slot] = [
                Float(box.x) / w, Float(box.y) / h, Float(box.x + box.width) / w, Float(box.y + box.height) / h,
            ]
            present[slot] = true
            embeddings.replaceSubrange(slot * keyDim..<(slot + 1) * keyDim, with: box.embedding.scalars)
        }
        let objects = try positionNet(
            boxes: corners, present: present,
            embeddings: Tensor(shape: [Self.maxObjects, keyDim], scalars: embeddings))
        return GLIGENGrounding(fusers: fusers, objects: objects)
    }
}

/// One GLIGEN box: its text's pooled embedding and its place in latent pixels (ComfyUI's
/// `(cond_pooled, h // 8, w // 8, y // 8, x // 8)`).
public struct GLIGENBox: Sendable {
    public var embedding: Tensor
    public var height: Int, width: Int, y: Int, x: Int

    public init(embedding: Tensor, height: Int, width: Int, y: Int, x: Int) {
        (self.embedding, self.height, self.width, self.y, self.x) = (embedding, height, width, y, x)
    }
}

/// The object tokens of a set of boxes and the gated attentions that read them: the UNet's
/// middle patch (ComfyUI's `patches["middle_patch"]`), applied after each transformer block's
/// self-attention.
public struct GLIGENGrounding: TransformerMiddlePatch {
    let fusers: [GatedSelfAttention]
    /// `[1, maxObjects, width]`: the position net's output.
    let objects: Tensor

    public func callAsFunction(_ x: Tensor, transformerIndex: Int) throws -> Tensor {
        guard fusers.indices.contains(transformerIndex) else {
            throw TensorError.invalidArgument(
                "the GLIGEN model has \(fusers.count) gated attentions, the UNet's transformer \(transformerIndex) has none"
            )
        }
        let batch = x.dim(0)
        let objects =
            batch == 1 ? self.objects : try Tensor.concat(Array(repeating: self.objects, count: batch), axis: 0)
        return try fusers[transformerIndex](x, objects: objects)
    }
}
