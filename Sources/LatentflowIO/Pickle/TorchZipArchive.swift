/// The entries of a zip archive as `torch.save` writes it: every entry STORED (uncompressed),
/// ZIP64 records for large files. Only the central directory and local headers are parsed; an
/// entry's data is a byte range of the mapped file. Every offset and length read from the file
/// is checked against the file's size before use.
struct TorchZipArchive {
    /// Entry names in central-directory order.
    let names: [String]
    /// Each entry's data as a range of the file's bytes.
    let entries: [String: Range<Int>]

    private static let endOfDirectorySignature: UInt32 = 0x0605_4B50
    private static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    private static let zip64EndSignature: UInt32 = 0x0606_4B50
    private static let directoryEntrySignature: UInt32 = 0x0201_4B50
    private static let localHeaderSignature: UInt32 = 0x0403_4B50

    init(bytes: UnsafeRawBufferPointer, file: String) throws {
        func refuse(_ reason: String) -> TorchPickleError { .invalidZip(file: file, reason: reason) }
        let size = bytes.count
        func u16(_ at: Int) throws -> Int {
            guard at >= 0, at <= size - 2 else { throw refuse("truncated at byte \(at)") }
            return Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self)))
        }
        func u32(_ at: Int) throws -> UInt32 {
            guard at >= 0, at <= size - 4 else { throw refuse("truncated at byte \(at)") }
            return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self))
        }
        func u64(_ at: Int) throws -> UInt64 {
            guard at >= 0, at <= size - 8 else { throw refuse("truncated at byte \(at)") }
            return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self))
        }
        func offset(_ value: UInt64, _ what: String) throws -> Int {
            guard value <= UInt64(size) else {
                throw refuse("\(what) \(value) lies past the end of the \(size)-byte file")
            }
            return Int(value)
        }

        // The end-of-central-directory record sits in the last 22 bytes plus up to 64 KiB of comment.
        guard size >= 22 else { throw refuse("\(size) bytes is too short for a zip archive") }
        var end: Int?
        var candidate = size - 22
        while candidate >= max(0, size - 22 - 0xFFFF) {
            if try u32(candidate) == Self.endOfDirectorySignature {
                end = candidate
                break
            }
            candidate -= 1
        }
        guard let end else { throw refuse("no end-of-central-directory record (truncated archive?)") }
        var entryCount = UInt64(try u16(end + 10))
        var directorySize = UInt64(try u32(end + 12))
        var directoryOffset = UInt64(try u32(end + 16))
        // ZIP64: torch writes these for archives over 4 GB; the locator sits just before the record.
        if end >= 20, try u32(end - 20) == Self.zip64LocatorSignature {
            let record = try offset(try u64(end - 12), "ZIP64 end record offset")
            guard try u32(record) == Self.zip64EndSignature else { throw refuse("ZIP64 end record not found") }
            entryCount = try u64(record + 32)
            directorySize = try u64(record + 40)
            directoryOffset = try u64(record + 48)
        }
        let directoryStart = try offset(directoryOffset, "central directory offset")
        let directoryLength = try offset(directorySize, "central directory size")
        guard directoryLength <= size - directoryStart else { throw refuse("central directory runs past the file") }
        // Each directory entry takes at least 46 bytes, which bounds a lying entry count.
        guard entryCount <= UInt64(directoryLength / 46) else {
            throw refuse("\(entryCount) entries cannot fit a \(directoryLength)-byte central directory")
        }

        var names: [String] = []
        var entries: [String: Range<Int>] = [:]
        var position = directoryStart
        for _ in 0..<Int(entryCount) {
            guard try u32(position) == Self.directoryEntrySignature else {
                throw refuse("bad central directory entry at byte \(position)")
            }
            let flags = try u16(position + 8), method = try u16(position + 10)
            var compressedSize = UInt64(try u32(position + 20))
            var uncompressedSize = UInt64(try u32(position + 24))
            let nameLength = try u16(position + 28), extraLength = try u16(position + 30)
            let commentLength = try u16(position + 32)
            var localOffset = UInt64(try u32(position + 42))
            let nameStart = position + 46
            guard nameStart + nameLength + extraLength <= size else {
                throw refuse("truncated entry name at byte \(nameStart)")
            }
            let name = String(
                decoding: UnsafeRawBufferPointer(rebasing: bytes[nameStart..<(nameStart + nameLength)]),
                as: UTF8.self)
            // The ZIP64 extra field holds, in order, whichever of the three sizes overflowed 32 bits.
            var extra = nameStart + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let tag = try u16(extra), length = try u16(extra + 2)
                var field = extra + 4
                if tag == 0x0001 {
                    if uncompressedSize == 0xFFFF_FFFF {
                        uncompressedSize = try u64(field)
                        field += 8
                    }
                    if compressedSize == 0xFFFF_FFFF {
                        compressedSize = try u64(field)
                        field += 8
                    }
                    if localOffset == 0xFFFF_FFFF {
                        localOffset = try u64(field)
                        field += 8
                    }
                    guard field <= extra + 4 + length else { throw refuse("entry '\(name)': short ZIP64 extra field") }
                }
                extra += 4 + length
            }
            guard flags & 1 == 0 else { throw refuse("entry '\(name)' is encrypted") }
            guard method == 0 else { throw TorchPickleError.compressedEntry(file: file, entry: name, method: method) }
            guard compressedSize == uncompressedSize else {
                throw refuse(
                    "stored entry '\(name)' declares \(compressedSize) stored and "
                        + "\(uncompressedSize) real bytes")
            }
            let local = try offset(localOffset, "entry '\(name)' local header offset")
            guard try u32(local) == Self.localHeaderSignature else {
                throw refuse("entry '\(name)': no local header at byte \(local)")
            }
            let dataStart = local + 30 + (try u16(local + 26)) + (try u16(local + 28))
            let dataLength = try offset(compressedSize, "entry '\(name)' size")
            guard dataStart <= size, dataLength <= size - dataStart else {
                throw refuse(
                    "entry '\(name)' of \(dataLength) bytes at byte \(dataStart) "
                        + "runs past the \(size)-byte file")
            }
            if entries[name] == nil { names.append(name) }
            entries[name] = dataStart..<(dataStart + dataLength)
            position = extraEnd + commentLength
        }
        self.names = names
        self.entries = entries
    }
}
