import Foundation
import LatentflowIO
import LatentflowTensor

/// Textual-inversion embeddings, as ComfyUI's `load_embed` finds them: the name as given or with
/// `.safetensors` / `.pt` / `.bin`, the first that exists; its format told by content. Pickled
/// files are read by the restricted unpickler (no code runs), in the layouts `load_embed` knows:
/// A1111's `string_to_param`, a list of per-encoder dicts, or a dict of tensors.
public enum TextualInversion {
    /// What looking an embedding up found.
    public enum Lookup: Sendable {
        /// The vectors, `[count, width]`.
        case found(Tensor)
        /// No file of that name among the embeddings.
        case notFound
        /// A file exists but holds no usable embedding: the reason names the file.
        case unreadable(file: String, reason: String)

        public var tensor: Tensor? {
            if case let .found(tensor) = self { return tensor }
            return nil
        }
    }

    /// The vectors `[count, width]` of embedding `name`, or nil when there is none (or the file
    /// cannot be read; `find` tells these apart).
    public static func load(
        _ name: String, key encoderKey: String = "clip_l", width: Int? = nil,
        locate: (_ fileName: String) throws -> URL
    ) -> Tensor? {
        find(name, key: encoderKey, width: width, locate: locate).tensor
    }

    /// Embedding `name`, read from the first of `name`, `name.safetensors`, `name.pt`, `name.bin`
    /// that `locate` finds.
    /// - Parameters:
    ///   - encoderKey: the tensor to take from a multi-encoder file (`clip_l`, `clip_h`, `clip_g`).
    ///   - width: the encoder's token width; a list-form pickle keeps only tensors this wide.
    ///   - locate: finds a file among the embeddings by name (throws when there is none).
    public static func find(
        _ name: String, key encoderKey: String = "clip_l", width: Int? = nil,
        locate: (_ fileName: String) throws -> URL
    ) -> Lookup {
        var located: URL?
        for candidate in [name, name + ".safetensors", name + ".pt", name + ".bin"] where located == nil {
            located = try? locate(candidate)
        }
        guard let url = located else { return .notFound }
        let vectors: Tensor
        do {
            switch try openModelFile(path: url.path) {
            case let file as TorchCheckpointFile:
                vectors = try TextualInversionPickle.vectors(in: file, key: encoderKey, width: width)
            case let file:
                vectors = try safetensorsVectors(in: file, key: encoderKey)
            }
        } catch {
            // Loader errors name the file already; any other gets it in front.
            let text = "\(error)"
            return .unreadable(file: url.path, reason: text.contains(url.path) ? text : url.path + ": " + text)
        }
        // A vector table the encoder can take: one or more vectors of its width, none empty.
        guard vectors.rank >= 1, !vectors.shape.contains(0), width.map({ vectors.shape.last == $0 }) ?? true else {
            return .unreadable(
                file: url.path,
                reason: "\(url.path): embedding of shape \(vectors.shape) is not a list of vectors "
                    + "[count, \(width.map(String.init) ?? "width")]")
        }
        let shaped =
            vectors.rank == 1
            ? try? vectors.reshaped([1, vectors.count])
            : try? vectors.reshaped([-1, vectors.dim(-1)])
        guard let shaped else {
            return .unreadable(
                file: url.path,
                reason: "\(url.path): embedding of shape \(vectors.shape) is not a list of vectors")
        }
        return .found(shaped)
    }

    /// The encoder's key, `emb_params`, or else the first key in sorted order (as safetensors
    /// stores them).
    static func safetensorsVectors(in file: any TensorArchive, key encoderKey: String) throws -> Tensor {
        let key: String? =
            file.contains(encoderKey)
            ? encoderKey
            : (file.contains("emb_params") ? "emb_params" : file.keys.sorted().first)
        guard let key else {
            throw ModelLoadError.unrecognized(file: file.path, reason: "holds no tensors, expected an embedding")
        }
        return try file.tensor(key)
    }
}
