/// A bounds-checked cursor over pickle bytes. Every read checks the remaining length first, so
/// a truncated or lying length field ends in a `truncated` error, never a read past the buffer.
struct PickleByteReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var position: Int

    init(_ bytes: UnsafeRawBufferPointer, position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    var remaining: Int { bytes.count - position }

    struct Truncated: Error {
        let needed: Int
    }

    struct LineTooLong: Error {
        let limit: Int
    }

    mutating func byte() throws -> UInt8 {
        guard remaining >= 1 else { throw Truncated(needed: 1) }
        defer { position += 1 }
        return bytes[position]
    }

    /// `count` bytes as a view into the buffer; `count` comes from the file, so it is checked
    /// against what is left before any slice is formed.
    mutating func take(_ count: Int) throws -> UnsafeRawBufferPointer {
        guard count >= 0, count <= remaining else { throw Truncated(needed: count) }
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)])
    }

    mutating func littleEndian<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        let raw = try take(MemoryLayout<T>.size)
        return T(littleEndian: raw.loadUnaligned(as: T.self))
    }

    mutating func bigEndianDouble() throws -> Double {
        let raw = try take(8)
        return Double(bitPattern: UInt64(bigEndian: raw.loadUnaligned(as: UInt64.self)))
    }

    /// One newline-terminated line (GLOBAL's module and name), at most `limit` bytes long.
    mutating func line(limit: Int) throws -> [UInt8] {
        var result: [UInt8] = []
        while true {
            let next = try byte()
            if next == 0x0A { return result }
            result.append(next)
            guard result.count <= limit else { throw LineTooLong(limit: limit) }
        }
    }
}
