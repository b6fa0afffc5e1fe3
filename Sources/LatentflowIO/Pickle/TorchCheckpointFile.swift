import LatentflowTensor

/// A `torch.save` checkpoint (`.ckpt`, `.pt`, `.pth`, `.bin`), zip or legacy format, read
/// without executing anything: the pickle is interpreted by a restricted machine that builds
/// only containers and tensors (see `TorchGlobal`). The file is memory-mapped and each tensor is
/// read (and converted to float32) only when asked for.
///
/// The flat tensor view (`keys`, `tensor(_:)`) is the state dict as ComfyUI picks it: the
/// `state_dict` entry when the top-level dict has one, else the top-level dict itself; its
/// string-keyed tensor entries, in file order. Anything else in the file is in `root`.
public final class TorchCheckpointFile: @unchecked Sendable {
    public enum Format: String, Sendable {
        case zip, legacy
    }

    public let path: String
    public let format: Format
    /// The whole unpickled object (nested dicts, embeddings' `string_to_param`, int keys ...).
    public let root: PickleValue
    /// The state dict's tensors in file order.
    public let entries: [(key: String, info: TorchTensorInfo)]
    private let index: [String: TorchTensorInfo]
    private let storages: [String: Range<Int>]
    private let mapping: MappedFile

    public init(path: String) throws {
        let mapping = try MappedFile(path: path)
        let contents: TorchCheckpointContents
        if TorchCheckpointFile.isZip(mapping.bytes) {
            contents = try TorchZipFormat.read(mapping.bytes, file: path)
            format = .zip
        } else if TorchLegacyFormat.matches(mapping.bytes) {
            contents = try TorchLegacyFormat.read(mapping.bytes, file: path)
            format = .legacy
        } else {
            throw TorchPickleError.unrecognisedFormat(file: path, reason: "no zip or legacy torch.save signature")
        }
        self.path = path
        self.mapping = mapping
        self.root = contents.root
        self.storages = contents.storages
        var entries: [(key: String, info: TorchTensorInfo)] = []
        var index: [String: TorchTensorInfo] = [:]
        for entry in Self.stateDict(in: contents.root)?.dictEntries ?? [] {
            guard case let .string(key) = entry.key, case let .tensor(info) = entry.value else { continue }
            if index.updateValue(info, forKey: key) == nil { entries.append((key, info)) }
        }
        self.entries = entries.map { ($0.key, index[$0.key]!) }
        self.index = index
    }

    static func isZip(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 4 && Array(bytes[0..<4]) == [0x50, 0x4B, 0x03, 0x04]
    }

    /// `state_dict` when the top-level dict holds one as a dict, else the top-level dict.
    public static func stateDict(in root: PickleValue) -> PickleValue? {
        if let nested = root["state_dict"], nested.dictEntries != nil { return nested }
        return root.dictEntries != nil ? root : nil
    }

    public var keys: [String] { entries.map(\.key) }

    public func contains(_ key: String) -> Bool { index[key] != nil }

    public func info(_ key: String) throws -> TorchTensorInfo {
        guard let info = index[key] else { throw TorchPickleError.missingTensor(file: path, key: key) }
        return info
    }

    public func shape(_ key: String) throws -> [Int] { try info(key).shape }

    public func dtype(_ key: String) throws -> SafeTensorsDType { try info(key).dtype }

    /// A state-dict tensor as dense row-major float32, whatever its stored dtype and layout.
    public func tensor(_ key: String) throws -> Tensor { try tensor(try info(key)) }

    /// Any tensor found in `root` (an embedding's vectors, a hypernetwork's weights ...).
    public func tensor(_ info: TorchTensorInfo) throws -> Tensor {
        let storage = try storageBytes(info)
        return Tensor(shape: info.shape) { TorchTensorReader.read(info, storage: storage, into: $0) }
    }

    /// An integer tensor's values exactly, as Int64.
    public func integers(_ key: String) throws -> [Int64] {
        let info = try info(key)
        guard let values = TorchTensorReader.integers(info, storage: try storageBytes(info)) else {
            throw TorchPickleError.unsupportedConversion(file: path, key: key, dtype: info.dtype.rawValue)
        }
        return values
    }

    /// Lets the OS drop the pages of a tensor's storage (shared storages' pages go too; they are
    /// re-read from disk when touched again).
    public func releasePages(_ key: String) {
        if let info = index[key], let range = storages[info.storageKey] { mapping.releasePages(range) }
    }

    private func storageBytes(_ info: TorchTensorInfo) throws -> UnsafeRawBufferPointer {
        // Every tensor of this file was validated against its storage; an info from another file
        // (same key, different storage) is checked here rather than trusted.
        guard let range = storages[info.storageKey] else {
            throw TorchPickleError.missingStorage(file: path, key: info.storageKey)
        }
        let needed =
            info.elementCount == 0
            ? 0
            : (info.storageOffset + zip(info.shape, info.strides).reduce(0) { $0 + ($1.0 - 1) * $1.1 } + 1)
                * info.dtype.byteSize
        guard needed <= range.count else {
            throw TorchPickleError.storageTooSmall(
                file: path, key: info.storageKey, neededBytes: needed,
                availableBytes: range.count)
        }
        return UnsafeRawBufferPointer(rebasing: mapping.bytes[range])
    }
}
