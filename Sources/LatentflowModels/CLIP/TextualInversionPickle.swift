import LatentflowIO
import LatentflowTensor

/// The layouts ComfyUI's `load_embed` reads from a pickled embedding (`.pt`, `.bin`), in its
/// order: A1111's `{"string_to_param": {"*": vectors}, ...}`; a list of dicts whose tensors of
/// the encoder's width are stacked; a dict holding the encoder's key (`clip_l`, `clip_g`);
/// else the dict's first tensor (`emb_params` taken first, as for safetensors).
enum TextualInversionPickle {
    static func vectors(in file: TorchCheckpointFile, key encoderKey: String, width: Int?) throws -> Tensor {
        let root = file.root
        if let parameters = root["string_to_param"] {
            guard let first = parameters.dictEntries?.first?.value.tensorValue else {
                throw refusal(file, "its string_to_param holds no tensor")
            }
            return try file.tensor(first)
        }
        if let items = root.elements {
            return try stacked(items, in: file, width: width)
        }
        guard let entries = root.dictEntries else {
            throw refusal(file, "it holds a \(root.typeName), expected a dict or list of tensors")
        }
        for key in [encoderKey, "emb_params"] {
            if let info = root[key]?.tensorValue { return try file.tensor(info) }
        }
        guard let first = entries.first(where: { $0.value.tensorValue != nil })?.value.tensorValue else {
            throw refusal(file, "its dict holds no tensor")
        }
        return try file.tensor(first)
    }

    /// The list form: every tensor of every dict whose last dimension is the encoder's width,
    /// as rows of vectors, one after another.
    private static func stacked(_ items: [PickleValue], in file: TorchCheckpointFile, width: Int?) throws -> Tensor {
        var rows: [Float] = []
        var rowWidth = width
        for item in items {
            for entry in item.dictEntries ?? [] {
                guard let info = entry.value.tensorValue, let last = info.shape.last, last > 0,
                    last == (rowWidth ?? last)
                else { continue }
                rowWidth = last
                rows += try file.tensor(info).scalars
            }
        }
        guard let rowWidth, !rows.isEmpty else {
            throw refusal(file, "its list holds no tensor of width \(width.map(String.init) ?? "any")")
        }
        return try Tensor(shape: [rows.count / rowWidth, rowWidth], scalars: rows)
    }

    private static func refusal(_ file: TorchCheckpointFile, _ reason: String) -> ModelLoadError {
        .unrecognized(file: file.path, reason: "not a textual-inversion embedding: " + reason)
    }
}
