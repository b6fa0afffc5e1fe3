/// A tensor as `torch._utils._rebuild_tensor_v2` describes it: a strided view into a storage.
/// Built only through `validated`, so every instance's view lies inside its storage.
public struct TorchTensorInfo: Sendable, Hashable {
    /// The storage's element type, under the safetensors spellings (float32, float16, ...).
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    /// Element strides, as PyTorch reports them.
    public let strides: [Int]
    /// Offset of the first element in the storage, in elements.
    public let storageOffset: Int
    /// The storage's key in the checkpoint (`data/<key>` in a zip archive).
    public let storageKey: String
    public let requiresGrad: Bool

    public var elementCount: Int { shape.reduce(1, *) }

    /// True when the elements lie in row-major order without gaps (dimensions of size 1 may
    /// carry any stride, as in PyTorch).
    public var isContiguous: Bool {
        var expected = 1
        for (size, stride) in zip(shape, strides).reversed() where size != 1 {
            if stride != expected { return false }
            expected *= size
        }
        return true
    }

    /// Tensors whose strides overlap (stride 0, as `expand` makes) may claim more elements than
    /// their storage holds; beyond this many they are refused instead of being allocated.
    static let maximumOverlappingElements = 1 << 26
    static let maximumDimensions = 64

    /// The checked form of `_rebuild_tensor_v2(storage, storage_offset, size, stride, ...)`.
    static func validated(
        storage: TorchStorageReference, offset: Int, shape: [Int], strides: [Int],
        requiresGrad: Bool, file: String
    ) throws -> TorchTensorInfo {
        func refuse(_ reason: String) -> TorchPickleError {
            TorchPickleError.invalidTensor(file: file, storage: storage.key, reason: reason)
        }
        guard shape.count == strides.count else {
            throw refuse("size \(shape) and stride \(strides) differ in length")
        }
        guard shape.count <= maximumDimensions else { throw refuse("\(shape.count) dimensions") }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw refuse("size \(shape) has a negative dimension") }
        guard strides.allSatisfy({ $0 >= 0 }) else { throw refuse("stride \(strides) has a negative stride") }
        guard offset >= 0 else { throw refuse("negative storage offset \(offset)") }
        var count = 1
        for size in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { throw refuse("size \(shape) overflows the addressable size") }
            count = product
        }
        if count > 0 {
            // The furthest element the view touches must lie inside the storage.
            var last = offset
            for (size, stride) in zip(shape, strides) {
                let (step, overflowA) = (size - 1).multipliedReportingOverflow(by: stride)
                let (sum, overflowB) = last.addingReportingOverflow(step)
                guard !overflowA, !overflowB else { throw refuse("size \(shape) with stride \(strides) overflows") }
                last = sum
            }
            guard last < storage.elementCount else {
                throw refuse(
                    "offset \(offset), size \(shape), stride \(strides) reach element \(last) "
                        + "of a storage of \(storage.elementCount)")
            }
            guard count <= max(storage.elementCount, maximumOverlappingElements) else {
                throw refuse("size \(shape) claims \(count) elements from a storage of \(storage.elementCount)")
            }
        }
        return TorchTensorInfo(
            dtype: storage.dtype, shape: shape, strides: strides,
            storageOffset: storage.elementOffset + offset, storageKey: storage.key,
            requiresGrad: requiresGrad)
    }
}

/// A storage as a persistent id names it. `elementOffset` is non-zero only for the legacy
/// format's storage views, which share their root storage's bytes.
struct TorchStorageReference: Hashable {
    let key: String
    let dtype: SafeTensorsDType
    let elementOffset: Int
    let elementCount: Int
}

extension SafeTensorsDType {
    /// The dtype of a legacy typed storage class (`torch.FloatStorage`, ...).
    init?(torchStorageName name: String) {
        switch name {
        case "FloatStorage": self = .float32
        case "HalfStorage": self = .float16
        case "BFloat16Storage": self = .bfloat16
        case "DoubleStorage": self = .float64
        case "LongStorage": self = .int64
        case "IntStorage": self = .int32
        case "ShortStorage": self = .int16
        case "CharStorage": self = .int8
        case "ByteStorage": self = .uint8
        case "BoolStorage": self = .bool
        default: return nil
        }
    }
}
