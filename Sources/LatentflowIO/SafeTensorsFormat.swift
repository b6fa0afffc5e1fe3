import Foundation

/// The element types a safetensors file may declare, under the format's own spellings.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case float64 = "F64", float32 = "F32", float16 = "F16", bfloat16 = "BF16"
    case int64 = "I64", int32 = "I32", int16 = "I16", int8 = "I8"
    case uint64 = "U64", uint32 = "U32", uint16 = "U16", uint8 = "U8"
    case bool = "BOOL"

    public var byteSize: Int {
        switch self {
        case .float64, .int64, .uint64: return 8
        case .float32, .int32, .uint32: return 4
        case .float16, .bfloat16, .int16, .uint16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }
}

/// One tensor's header entry: where its bytes lie in the data section.
public struct SafeTensorsEntry: Sendable, Equatable {
    public let key: String
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    /// Byte range relative to the start of the data section (after the header).
    public let dataRange: Range<Int>

    public var elementCount: Int { shape.reduce(1, *) }
}

/// What can be wrong with a safetensors file; every case names the file, and the tensor key
/// where one is involved.
public enum SafeTensorsError: Error, Equatable, CustomStringConvertible {
    case unreadable(file: String, reason: String)
    case truncatedHeader(file: String, fileSize: Int)
    case headerLength(file: String, declared: UInt64, available: Int)
    case invalidHeader(file: String, reason: String)
    case invalidEntry(file: String, key: String, reason: String)
    case unknownDType(file: String, key: String, dtype: String)
    case sizeMismatch(file: String, key: String, shape: [Int], dtype: String, expectedBytes: Int, declaredBytes: Int)
    case outOfBounds(file: String, key: String, range: Range<Int>, dataSize: Int)
    case overlap(file: String, key: String, other: String)
    case missingTensor(file: String, key: String)
    case unsupportedConversion(file: String, key: String, dtype: String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "\(file): cannot read safetensors file: \(reason)"
        case let .truncatedHeader(file, size):
            return "\(file): not a safetensors file: \(size) bytes is too short for the 8-byte header length"
        case let .headerLength(file, declared, available):
            return "\(file): header length \(declared) exceeds the \(available) bytes available"
        case let .invalidHeader(file, reason):
            return "\(file): invalid safetensors header: \(reason)"
        case let .invalidEntry(file, key, reason):
            return "\(file): tensor '\(key)': \(reason)"
        case let .unknownDType(file, key, dtype):
            return "\(file): tensor '\(key)': unknown dtype '\(dtype)'"
        case let .sizeMismatch(file, key, shape, dtype, expected, declared):
            return
                "\(file): tensor '\(key)': shape \(shape) of \(dtype) needs \(expected) bytes, data_offsets span \(declared)"
        case let .outOfBounds(file, key, range, dataSize):
            return
                "\(file): tensor '\(key)': data_offsets [\(range.lowerBound), \(range.upperBound)] run past the data section of \(dataSize) bytes"
        case let .overlap(file, key, other):
            return "\(file): tensor '\(key)': data overlaps tensor '\(other)'"
        case let .missingTensor(file, key):
            return "\(file): no tensor named '\(key)'"
        case let .unsupportedConversion(file, key, dtype):
            return "\(file): tensor '\(key)': cannot convert \(dtype) to float32"
        }
    }
}

extension SafeTensorsEntry {
    /// Rows `range` along the first axis as an entry of their own, over the same bytes of the
    /// file (fused weights, such as OpenCLIP's stacked q/k/v projection, split without a copy).
    public func rows(_ range: Range<Int>, key: String) -> SafeTensorsEntry? {
        guard let first = shape.first, range.lowerBound >= 0, range.upperBound <= first else { return nil }
        let rowBytes = shape.dropFirst().reduce(1, *) * dtype.byteSize
        let start = dataRange.lowerBound + range.lowerBound * rowBytes
        return SafeTensorsEntry(
            key: key, dtype: dtype, shape: [range.count] + shape.dropFirst(),
            dataRange: start..<(start + range.count * rowBytes))
    }
}
