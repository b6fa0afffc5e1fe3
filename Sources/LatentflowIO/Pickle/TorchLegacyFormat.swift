/// The legacy format (`_use_new_zipfile_serialization=False`, and every file before PyTorch
/// 1.6): five pickles back to back (magic number, protocol version, system info, the object,
/// the list of storage keys), then each listed storage as an 8-byte little-endian element count
/// followed by its raw bytes.
enum TorchLegacyFormat {
    /// 0x1950a86a20f9469cfc6c, the LONG1 torch pickles first, as its little-endian bytes.
    static let magicNumber: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]
    static let protocolVersion = 1001

    /// Whether the bytes begin like a legacy checkpoint: PROTO n, LONG1 of 10 bytes, the magic.
    static func matches(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= 14, bytes[0] == PickleOpcode.proto.rawValue, bytes[2] == PickleOpcode.long1.rawValue,
            bytes[3] == 10
        else { return false }
        return Array(bytes[4..<14]) == magicNumber
    }

    static func read(_ bytes: UnsafeRawBufferPointer, file: String) throws -> TorchCheckpointContents {
        func refuse(_ reason: String) -> TorchPickleError { .invalidLegacyHeader(file: file, reason: reason) }
        var reader = PickleByteReader(bytes)
        var plain = PickleMachine(file: file)
        guard case .bigInt(magicNumber) = try plain.load(&reader) else { throw refuse("wrong magic number") }
        guard try plain.load(&reader) == .int(protocolVersion) else {
            throw refuse("protocol version is not \(protocolVersion)")
        }
        let systemInfo = try plain.load(&reader)
        guard systemInfo["little_endian"] == .bool(true) else {
            throw TorchPickleError.unsupportedByteOrder(file: file, byteOrder: "big (or undeclared)")
        }

        // The storages' bytes follow the pickles, so the object's pickle only names them here.
        var declared: [String: TorchStorageReference] = [:]
        var references: [TorchStorageReference] = []
        var machine = PickleMachine(file: file) { identifier, offset in
            let reference = try TorchCheckpointContents.reference(for: identifier, file: file, offset: offset)
            // As torch: the first reference to a key creates the root storage, later ones share it.
            if declared[identifier.key] == nil {
                declared[identifier.key] = TorchStorageReference(
                    key: identifier.key, dtype: identifier.dtype,
                    elementOffset: 0,
                    elementCount: identifier.elementCount)
            }
            references.append(reference)
            return reference
        }
        let root = try machine.load(&reader)

        guard case let .list(keyValues) = try plain.load(&reader) else {
            throw refuse("storage key list is not a list")
        }
        var storages: [String: Range<Int>] = [:]
        for keyValue in keyValues {
            guard case let .string(key) = keyValue else { throw refuse("storage key is a \(keyValue.typeName)") }
            guard let storage = declared[key] else { throw refuse("storage '\(key)' is listed but never used") }
            guard storages[key] == nil else { throw refuse("storage '\(key)' is listed twice") }
            let start = reader.position
            guard let count = try? reader.littleEndian(Int64.self) else {
                throw TorchPickleError.missingStorage(file: file, key: key)
            }
            guard count == Int64(storage.elementCount) else {
                throw TorchPickleError.invalidTensor(
                    file: file, storage: key,
                    reason: "raw storage at byte \(start) holds \(count) elements, "
                        + "the pickle declared \(storage.elementCount)")
            }
            let (length, overflow) = storage.elementCount.multipliedReportingOverflow(by: storage.dtype.byteSize)
            guard !overflow, length <= reader.remaining else {
                throw TorchPickleError.storageTooSmall(
                    file: file, key: key, neededBytes: overflow ? Int.max : length,
                    availableBytes: reader.remaining)
            }
            let dataStart = reader.position
            _ = try? reader.take(length)
            storages[key] = dataStart..<(dataStart + length)
        }
        return try TorchCheckpointContents(root: root, storages: storages, references: references, file: file)
    }
}
