import Foundation
import LatentflowTensor

/// Writes safetensors files: a JSON header padded to 8 bytes, then the tensors' bytes in order.
public struct SafeTensorsWriter {
    /// A tensor to write and the dtype to store it in (float32, float16 or bfloat16).
    public struct Item {
        public var key: String
        public var tensor: Tensor
        public var dtype: SafeTensorsDType

        public init(_ key: String, _ tensor: Tensor, dtype: SafeTensorsDType = .float32) {
            (self.key, self.tensor, self.dtype) = (key, tensor, dtype)
        }
    }

    public static func data(_ items: [Item], metadata: [String: String] = [:]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var body = Data()
        for item in items {
            let start = body.count
            switch item.dtype {
            case .float32:
                item.tensor.withUnsafeBufferPointer { body.append(contentsOf: UnsafeRawBufferPointer($0)) }
            case .float16:
                item.tensor.float16Bits.withUnsafeBufferPointer { body.append(contentsOf: UnsafeRawBufferPointer($0)) }
            case .bfloat16:
                item.tensor.bfloat16Bits.withUnsafeBufferPointer { body.append(contentsOf: UnsafeRawBufferPointer($0)) }
            default:
                throw SafeTensorsError.unsupportedConversion(
                    file: "(writer)", key: item.key, dtype: "float32 to \(item.dtype.rawValue)")
            }
            header[item.key] = [
                "dtype": item.dtype.rawValue, "shape": item.tensor.shape, "data_offsets": [start, body.count],
            ]
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var file = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        file.append(body)
        return file
    }

    /// Writes atomically: a reader never sees a half-written file.
    public static func write(_ items: [Item], metadata: [String: String] = [:], to url: URL) throws {
        try data(items, metadata: metadata).write(to: url, options: .atomic)
    }
}
