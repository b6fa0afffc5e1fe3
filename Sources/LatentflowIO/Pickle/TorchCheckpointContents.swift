import Foundation

/// What either `torch.save` format yields once parsed: the unpickled object and where each
/// storage's bytes lie in the file. Storages are checked against every reference to them, so
/// any tensor built from this (already validated against its storage reference) reads in bounds.
struct TorchCheckpointContents {
    let root: PickleValue
    /// Storage key → the storage's bytes in the mapped file.
    let storages: [String: Range<Int>]

    init(
        root: PickleValue, storages: [String: Range<Int>], references: [TorchStorageReference],
        file: String
    ) throws {
        for reference in references {
            guard let bytes = storages[reference.key] else {
                throw TorchPickleError.missingStorage(file: file, key: reference.key)
            }
            let (elements, overflowA) = reference.elementOffset.addingReportingOverflow(reference.elementCount)
            let (needed, overflowB) = elements.multipliedReportingOverflow(by: reference.dtype.byteSize)
            guard !overflowA, !overflowB, needed <= bytes.count else {
                throw TorchPickleError.storageTooSmall(
                    file: file, key: reference.key,
                    neededBytes: overflowA || overflowB ? Int.max : needed,
                    availableBytes: bytes.count)
            }
        }
        self.root = root
        self.storages = storages
    }

    /// The reference a persistent id stands for; a legacy view narrows its root storage.
    static func reference(for identifier: TorchPersistentID, file: String, offset: Int) throws
        -> TorchStorageReference
    {
        guard let view = identifier.view else {
            return TorchStorageReference(
                key: identifier.key, dtype: identifier.dtype, elementOffset: 0,
                elementCount: identifier.elementCount)
        }
        let (end, overflow) = view.offset.addingReportingOverflow(view.count)
        guard !overflow, end <= identifier.elementCount else {
            throw TorchPickleError.invalidPersistentID(
                file: file, offset: offset,
                reason: "view [\(view.offset), +\(view.count)) of storage '\(identifier.key)' exceeds its "
                    + "\(identifier.elementCount) elements")
        }
        return TorchStorageReference(
            key: identifier.key, dtype: identifier.dtype, elementOffset: view.offset,
            elementCount: view.count)
    }
}

/// The zip format (PyTorch >= 1.6): `<prefix>/data.pkl` holds the pickle, `<prefix>/data/<key>`
/// each storage's raw little-endian bytes.
enum TorchZipFormat {
    static func read(_ bytes: UnsafeRawBufferPointer, file: String) throws -> TorchCheckpointContents {
        let archive = try TorchZipArchive(bytes: bytes, file: file)
        // As PyTorch's reader: the record prefix is the top-level folder holding data.pkl.
        guard
            let pickleName = archive.names.first(where: {
                let parts = $0.split(separator: "/", omittingEmptySubsequences: false)
                return parts.count == 2 && parts[1] == "data.pkl" && !parts[0].isEmpty
            }), let pickleRange = archive.entries[pickleName]
        else {
            throw TorchPickleError.missingRecord(file: file, name: "<prefix>/data.pkl")
        }
        let prefix = String(pickleName.dropLast("data.pkl".count))
        if let orderRange = archive.entries[prefix + "byteorder"] {
            let order = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[orderRange]), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            guard order == "little" else { throw TorchPickleError.unsupportedByteOrder(file: file, byteOrder: order) }
        }
        var storages: [String: Range<Int>] = [:]
        var references: [TorchStorageReference] = []
        var machine = PickleMachine(file: file) { identifier, offset in
            guard let range = archive.entries[prefix + "data/" + identifier.key] else {
                throw TorchPickleError.missingStorage(file: file, key: identifier.key)
            }
            storages[identifier.key] = range
            let reference = try TorchCheckpointContents.reference(for: identifier, file: file, offset: offset)
            references.append(reference)
            return reference
        }
        // Offsets in pickle errors count from the start of data.pkl.
        var reader = PickleByteReader(UnsafeRawBufferPointer(rebasing: bytes[pickleRange]))
        let root = try machine.load(&reader)
        return try TorchCheckpointContents(root: root, storages: storages, references: references, file: file)
    }
}
