/// A value read from a PyTorch checkpoint's pickle: the plain Python containers and scalars a
/// state dict may hold, and tensors (as metadata; `TorchCheckpointFile.tensor(_:)` reads them).
/// Python's dict and OrderedDict both become `.dict`, in insertion order; `torch.Size` becomes
/// `.tuple`.
public indirect enum PickleValue: Sendable, Hashable {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer beyond 64 bits (LONG1/LONG4), as its little-endian two's complement bytes.
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case list([PickleValue])
    case tuple([PickleValue])
    case set([PickleValue])
    case dict([PickleDictEntry])
    case tensor(TorchTensorInfo)
    /// A storage saved on its own rather than inside a tensor.
    case storage(key: String, dtype: SafeTensorsDType, elementCount: Int)

    /// The value under a string key, when this is a dict.
    public subscript(key: String) -> PickleValue? { self[.string(key)] }

    /// The value under any key (hypernetworks use int keys), when this is a dict.
    public subscript(key: PickleValue) -> PickleValue? {
        guard case let .dict(entries) = self else { return nil }
        return entries.last { $0.key == key }?.value
    }

    public var dictEntries: [PickleDictEntry]? {
        if case let .dict(entries) = self { return entries }
        return nil
    }

    /// The elements of a list, tuple or set.
    public var elements: [PickleValue]? {
        switch self {
        case let .list(items), let .tuple(items), let .set(items): return items
        default: return nil
        }
    }

    public var stringValue: String? {
        if case let .string(value) = self { return value }
        return nil
    }

    public var intValue: Int? {
        switch self {
        case let .int(value): return value
        case let .bool(value): return value ? 1 : 0
        default: return nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case let .float(value): return value
        case let .int(value): return Double(value)
        default: return nil
        }
    }

    public var tensorValue: TorchTensorInfo? {
        if case let .tensor(info) = self { return info }
        return nil
    }

    /// Python's name for the kind of value, for error messages.
    public var typeName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .list: return "list"
        case .tuple: return "tuple"
        case .set: return "set"
        case .dict: return "dict"
        case .tensor: return "Tensor"
        case .storage: return "Storage"
        }
    }
}

public struct PickleDictEntry: Sendable, Hashable {
    public let key: PickleValue
    public let value: PickleValue

    public init(key: PickleValue, value: PickleValue) {
        self.key = key
        self.value = value
    }
}
