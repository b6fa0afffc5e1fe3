import LatentflowIO
import LatentflowTensor

/// One tensor of a model file, whichever container holds it: what a loader reads at load time
/// and what a low-memory `Parameter` keeps to widen its weight each time a layer runs.
public enum ArchivedTensor: Sendable {
    case safetensors(SafeTensorsFile, SafeTensorsEntry)
    case torch(TorchCheckpointFile, TorchTensorInfo)

    /// The tensors of `archive` in file order, under their keys.
    public static func entries(of archive: any TensorArchive) throws -> [(key: String, tensor: ArchivedTensor)] {
        switch archive {
        case let file as SafeTensorsFile:
            return file.entries.map { ($0.key, .safetensors(file, $0)) }
        case let file as TorchCheckpointFile:
            return file.entries.map { ($0.key, .torch(file, $0.info)) }
        default:
            throw ModelLoadError.unrecognized(
                file: archive.path,
                reason: "unsupported tensor container \(type(of: archive))")
        }
    }

    public var shape: [Int] {
        switch self {
        case let .safetensors(_, entry): return entry.shape
        case let .torch(_, info): return info.shape
        }
    }

    public var dtype: SafeTensorsDType {
        switch self {
        case let .safetensors(_, entry): return entry.dtype
        case let .torch(_, info): return info.dtype
        }
    }

    public var elementCount: Int { shape.reduce(1, *) }

    /// The tensor widened to float32.
    public func tensor() throws -> Tensor {
        switch self {
        case let .safetensors(file, entry): return file.tensor(entry)
        case let .torch(file, info): return try file.tensor(info)
        }
    }

    /// Widens the tensor into `out` without keeping its file pages: safetensors are read
    /// through the file descriptor, a pickle's storage from its mapping, whose pages are then
    /// released (low-memory mode must not grow the resident set with every layer it runs).
    public func stream(into out: UnsafeMutableBufferPointer<Float>) {
        switch self {
        case let .safetensors(file, entry):
            file.stream(entry, into: out)
        case let .torch(file, info):
            // Views come only from this file's validated tensors (or rows of them), so they
            // always lie inside their storage.
            do { try file.read(info, into: out) } catch { preconditionFailure("\(error)") }
            file.releasePages(info)
        }
    }

    /// Lets the OS drop the tensor's file pages once it has been read.
    public func releasePages() {
        switch self {
        case let .safetensors(file, entry): file.releasePages(entry)
        case let .torch(file, info): file.releasePages(info)
        }
    }

    /// Rows `range` along the first axis, over the same bytes of the file.
    public func rows(_ range: Range<Int>, key: String) -> ArchivedTensor? {
        switch self {
        case let .safetensors(file, entry): return entry.rows(range, key: key).map { .safetensors(file, $0) }
        case let .torch(file, info): return info.rows(range).map { .torch(file, $0) }
        }
    }
}
