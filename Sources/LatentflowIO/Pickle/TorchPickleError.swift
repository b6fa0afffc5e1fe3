/// What can be wrong with a PyTorch checkpoint (`torch.save` output). Every case names the file,
/// and the global, tensor key, storage key or byte offset involved, so a refused `.ckpt` says
/// exactly why and where.
public enum TorchPickleError: Error, Equatable, CustomStringConvertible {
    case unreadable(file: String, reason: String)
    case unrecognisedFormat(file: String, reason: String)
    case invalidZip(file: String, reason: String)
    case compressedEntry(file: String, entry: String, method: Int)
    case missingRecord(file: String, name: String)
    case unsupportedByteOrder(file: String, byteOrder: String)
    case invalidLegacyHeader(file: String, reason: String)
    case truncatedPickle(file: String, offset: Int, opcode: String)
    case invalidOpcode(file: String, offset: Int, opcode: UInt8)
    case disallowedGlobal(file: String, global: String)
    case disallowedCall(file: String, offset: Int, callee: String)
    case invalidArguments(file: String, offset: Int, callee: String, reason: String)
    case malformedPickle(file: String, offset: Int, reason: String)
    case missingMemo(file: String, offset: Int, index: Int)
    case limitExceeded(file: String, what: String, limit: Int)
    case invalidPersistentID(file: String, offset: Int, reason: String)
    case missingStorage(file: String, key: String)
    case storageTooSmall(file: String, key: String, neededBytes: Int, availableBytes: Int)
    case invalidTensor(file: String, storage: String, reason: String)
    case missingTensor(file: String, key: String)
    case notAStateDict(file: String, found: String)
    case unsupportedConversion(file: String, key: String, dtype: String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "\(file): cannot read PyTorch checkpoint: \(reason)"
        case let .unrecognisedFormat(file, reason):
            return "\(file): not a safetensors, PyTorch zip or legacy PyTorch checkpoint: \(reason)"
        case let .invalidZip(file, reason):
            return "\(file): invalid PyTorch zip archive: \(reason)"
        case let .compressedEntry(file, entry, method):
            return "\(file): zip entry '\(entry)' is compressed (method \(method)); "
                + "torch.save stores entries uncompressed"
        case let .missingRecord(file, name):
            return "\(file): PyTorch archive has no record '\(name)'"
        case let .unsupportedByteOrder(file, byteOrder):
            return "\(file): storages are \(byteOrder)-endian; only little-endian checkpoints are supported"
        case let .invalidLegacyHeader(file, reason):
            return "\(file): invalid legacy PyTorch checkpoint header: \(reason)"
        case let .truncatedPickle(file, offset, opcode):
            return "\(file): pickle truncated at byte \(offset) while reading \(opcode)"
        case let .invalidOpcode(file, offset, opcode):
            return "\(file): unsupported pickle opcode 0x\(String(opcode, radix: 16)) at byte \(offset)"
        case let .disallowedGlobal(file, global):
            return "\(file): refusing pickle global '\(global)': only tensors, storages and plain containers "
                + "are allowed (as torch.load(weights_only=True))"
        case let .disallowedCall(file, offset, callee):
            return "\(file): refusing to call \(callee) at byte \(offset): not an allowed constructor"
        case let .invalidArguments(file, offset, callee, reason):
            return "\(file): \(callee) at byte \(offset): \(reason)"
        case let .malformedPickle(file, offset, reason):
            return "\(file): malformed pickle at byte \(offset): \(reason)"
        case let .missingMemo(file, offset, index):
            return "\(file): pickle at byte \(offset) refers to memo entry \(index), which was never stored"
        case let .limitExceeded(file, what, limit):
            return "\(file): pickle exceeds the limit of \(limit) \(what)"
        case let .invalidPersistentID(file, offset, reason):
            return "\(file): persistent id at byte \(offset): \(reason)"
        case let .missingStorage(file, key):
            return "\(file): tensor storage '\(key)' is missing from the checkpoint"
        case let .storageTooSmall(file, key, needed, available):
            return "\(file): tensor storage '\(key)' needs \(needed) bytes, the checkpoint holds \(available)"
        case let .invalidTensor(file, storage, reason):
            return "\(file): tensor on storage '\(storage)': \(reason)"
        case let .missingTensor(file, key):
            return "\(file): no tensor named '\(key)'"
        case let .notAStateDict(file, found):
            return "\(file): the checkpoint holds \(found), not a dictionary of tensors"
        case let .unsupportedConversion(file, key, dtype):
            return "\(file): tensor '\(key)': cannot convert \(dtype) to integers"
        }
    }
}
