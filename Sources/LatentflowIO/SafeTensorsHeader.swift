import Foundation

/// Parses and checks a safetensors header. The header is untrusted input: every field is
/// type-checked, sizes are computed with overflow checks, and every tensor's byte range must
/// match its shape and lie inside the data section without overlapping another.
struct SafeTensorsHeader {
    /// Larger headers are refused, as the reference implementation does (100 MB).
    static let maximumLength = 100_000_000

    let entries: [SafeTensorsEntry]
    let metadata: [String: String]

    init(json: Data, dataSize: Int, file: String) throws {
        try SafeTensorsHeaderScan.check(json, file: file)
        let decoder = JSONDecoder()
        decoder.userInfo[HeaderDocument.fileKey] = file
        let document: HeaderDocument
        do {
            document = try decoder.decode(HeaderDocument.self, from: json)
        } catch let error as SafeTensorsError {
            throw error
        } catch {
            throw SafeTensorsError.invalidHeader(file: file, reason: "not a JSON object of tensor entries (\(error))")
        }
        var entries: [SafeTensorsEntry] = []
        for (key, raw) in document.entries {
            entries.append(try Self.entry(key: key, raw: raw, dataSize: dataSize, file: file))
        }
        try Self.checkOverlaps(entries, file: file)
        self.entries = entries.sorted { ($0.dataRange.lowerBound, $0.key) < ($1.dataRange.lowerBound, $1.key) }
        self.metadata = document.metadata
    }

    private static func entry(key: String, raw: RawEntry, dataSize: Int, file: String) throws -> SafeTensorsEntry {
        guard let dtype = SafeTensorsDType(rawValue: raw.dtype) else {
            throw SafeTensorsError.unknownDType(file: file, key: key, dtype: raw.dtype)
        }
        guard raw.shape.allSatisfy({ $0 >= 0 }) else {
            throw SafeTensorsError.invalidEntry(
                file: file, key: key, reason: "shape \(raw.shape) has a negative dimension")
        }
        let offsets = raw.dataOffsets
        guard offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1] else {
            throw SafeTensorsError.invalidEntry(
                file: file, key: key, reason: "data_offsets \(offsets) is not [begin, end] with 0 <= begin <= end")
        }
        var bytes = dtype.byteSize
        for dimension in raw.shape {
            let (product, overflow) = bytes.multipliedReportingOverflow(by: dimension)
            guard !overflow else {
                throw SafeTensorsError.invalidEntry(
                    file: file, key: key, reason: "shape \(raw.shape) overflows the addressable size")
            }
            bytes = product
        }
        let range = offsets[0]..<offsets[1]
        guard range.count == bytes else {
            throw SafeTensorsError.sizeMismatch(
                file: file, key: key, shape: raw.shape, dtype: raw.dtype,
                expectedBytes: bytes, declaredBytes: range.count)
        }
        guard range.upperBound <= dataSize else {
            throw SafeTensorsError.outOfBounds(file: file, key: key, range: range, dataSize: dataSize)
        }
        return SafeTensorsEntry(key: key, dtype: dtype, shape: raw.shape, dataRange: range)
    }

    private static func checkOverlaps(_ entries: [SafeTensorsEntry], file: String) throws {
        let ordered = entries.filter { !$0.dataRange.isEmpty }.sorted {
            $0.dataRange.lowerBound < $1.dataRange.lowerBound
        }
        for (previous, next) in zip(ordered, ordered.dropFirst())
        where next.dataRange.lowerBound < previous.dataRange.upperBound {
            throw SafeTensorsError.overlap(file: file, key: next.key, other: previous.key)
        }
    }
}

/// One tensor's fields as written in the header.
struct RawEntry: Decodable {
    let dtype: String
    let shape: [Int]
    let dataOffsets: [Int]

    enum CodingKeys: String, CodingKey {
        case dtype, shape
        case dataOffsets = "data_offsets"
    }
}

/// The header object: `__metadata__` (strings only) and tensor entries under any other key.
/// Decoding errors are rethrown naming the tensor key.
private struct HeaderDocument: Decodable {
    static let fileKey = CodingUserInfoKey(rawValue: "safetensors.file")!

    var metadata: [String: String] = [:]
    var entries: [(String, RawEntry)] = []

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: Decoder) throws {
        let file = decoder.userInfo[Self.fileKey] as? String ?? "?"
        let container = try decoder.container(keyedBy: Key.self)
        for key in container.allKeys {
            do {
                if key.stringValue == "__metadata__" {
                    metadata = try container.decode([String: String].self, forKey: key)
                } else {
                    entries.append((key.stringValue, try container.decode(RawEntry.self, forKey: key)))
                }
            } catch let error as DecodingError {
                if key.stringValue == "__metadata__" {
                    throw SafeTensorsError.invalidHeader(file: file, reason: "__metadata__ must map strings to strings")
                }
                throw SafeTensorsError.invalidEntry(file: file, key: key.stringValue, reason: Self.explain(error))
            }
        }
    }

    private static func explain(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): return "missing field '\(key.stringValue)'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.dropFirst().map(\.stringValue).joined(separator: ".")
            return "field '\(path)' has the wrong type (dtype is a string, shape and data_offsets lists of integers)"
        @unknown default: return "malformed entry"
        }
    }
}
