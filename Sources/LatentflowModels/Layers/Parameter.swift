import LatentflowIO
import LatentflowTensor

/// How a loaded model keeps its weights between uses.
public enum WeightResidency: Sendable, Equatable {
    /// Widened to float32 once, at load: the fastest to compute with, and a float16 checkpoint
    /// takes twice its file size in memory.
    case float32
    /// Left in the memory-mapped file in the file's own dtype; each layer widens its weight when
    /// it runs and releases the pages again, so only the running layer's weight is resident
    /// (low-memory mode). The file stays in the OS page cache, so re-reading costs page faults,
    /// not disk reads, while memory allows.
    case mapped
}

/// A weight as a model holds it: a float32 tensor, a view of a memory-mapped checkpoint, or
/// float16 values (a LoRA-patched weight of a low-memory model, rounded as ComfyUI rounds
/// patches of float16 weights). Layers ask for `tensor()` each time they run.
public struct Parameter: Sendable {
    public private(set) var shape: [Int]
    private let storage: Storage

    private enum Storage: Sendable {
        case resident(Tensor)
        case mapped(SafeTensorsFile, SafeTensorsEntry, roundToFloat16: Bool)
        case float16([UInt16])
    }

    public init(_ tensor: Tensor) { (shape, storage) = (tensor.shape, .resident(tensor)) }

    /// A view of one tensor of a mapped file; `roundToFloat16` rounds each widened value to
    /// float16 (ComfyUI keeps the text encoder in float16 even when the file holds float32).
    public init(mapped entry: SafeTensorsEntry, of file: SafeTensorsFile, roundToFloat16: Bool = false) {
        shape = entry.shape
        storage = .mapped(file, entry, roundToFloat16: roundToFloat16 && entry.dtype != .float16)
    }

    /// `tensor` rounded to float16 and kept so.
    public init(float16 tensor: Tensor) { (shape, storage) = (tensor.shape, .float16(tensor.float16Bits)) }

    /// The weight in float32. For a mapped weight this widens the file's bytes and releases
    /// their pages again.
    public func tensor() -> Tensor {
        switch storage {
        case .resident(let tensor):
            return tensor.shape == shape ? tensor : (try? tensor.reshaped(shape)) ?? tensor
        case let .mapped(file, entry, roundToFloat16):
            var tensor = file.tensor(entry)
            file.releasePages(entry)
            if roundToFloat16 { tensor = (try? Tensor(shape: shape, float16Bits: tensor.float16Bits)) ?? tensor }
            return (try? tensor.reshaped(shape)) ?? tensor
        case .float16(let bits):
            return (try? Tensor(shape: shape, float16Bits: bits)) ?? Tensor(shape: shape)
        }
    }

    /// The same values under another shape of the same element count (a linear layer stored as
    /// a 1x1 convolution, or the reverse).
    public func reshaped(_ newShape: [Int]) -> Parameter? {
        guard newShape.reduce(1, *) == shape.reduce(1, *) else { return nil }
        var copy = self
        copy.shape = newShape
        return copy
    }

    /// Whether the float32 values sit in memory (not in a mapped file or as float16).
    public var isFloat32Resident: Bool {
        if case .resident = storage { return true }
        return false
    }

    /// Bytes this weight keeps in process memory between uses.
    public var residentBytes: Int {
        switch storage {
        case .resident(let tensor): return tensor.count * 4
        case .mapped: return 0
        case .float16(let bits): return bits.count * 2
        }
    }
}

extension Dictionary where Value == Parameter {
    /// Bytes the weights keep in process memory between uses.
    public var residentBytes: Int { values.reduce(0) { $0 + $1.residentBytes } }
}
