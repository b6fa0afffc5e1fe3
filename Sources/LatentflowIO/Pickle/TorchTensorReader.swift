import LatentflowTensor

/// Materialises a validated tensor view as dense row-major float32 (or Int64): contiguous
/// float32/16-bit views are copied or widened in one pass, any other layout is gathered element
/// by element through its strides. Storages need not be aligned (legacy files pack them tightly).
enum TorchTensorReader {
    /// `storage` is the storage's bytes, already checked to cover every element `info` touches.
    static func read(
        _ info: TorchTensorInfo, storage: UnsafeRawBufferPointer,
        into out: UnsafeMutableBufferPointer<Float>
    ) {
        let count = info.elementCount
        precondition(out.count >= count)
        guard count > 0 else { return }
        let size = info.dtype.byteSize
        let out = UnsafeMutableBufferPointer(rebasing: out[0..<count])
        if info.isContiguous {
            let first = info.storageOffset * size
            let bytes = UnsafeRawBufferPointer(rebasing: storage[first..<(first + count * size)])
            switch info.dtype {
            case .float32:
                UnsafeMutableRawBufferPointer(out).copyMemory(from: bytes)
                return
            case .float16, .bfloat16:
                let widen = info.dtype == .float16 ? HalfPrecision.widenFloat16 : HalfPrecision.widenBFloat16
                if Int(bitPattern: bytes.baseAddress) % 2 == 0 {
                    HalfPrecision.parallelWiden(bytes.assumingMemoryBound(to: UInt16.self), into: out, using: widen)
                    return
                }
            default: break
            }
        }
        let load = elementLoader(info.dtype)
        forEachElementOffset(info) { index, element in out[index] = load(storage, element * size) }
    }

    /// Integer tensors exactly, as Int64 (token ids and the like).
    static func integers(_ info: TorchTensorInfo, storage: UnsafeRawBufferPointer) -> [Int64]? {
        let size = info.dtype.byteSize
        let load: (UnsafeRawBufferPointer, Int) -> Int64
        switch info.dtype {
        case .int64: load = { Int64($0.loadUnaligned(fromByteOffset: $1, as: Int64.self)) }
        case .int32: load = { Int64($0.loadUnaligned(fromByteOffset: $1, as: Int32.self)) }
        case .int16: load = { Int64($0.loadUnaligned(fromByteOffset: $1, as: Int16.self)) }
        case .int8: load = { Int64($0.loadUnaligned(fromByteOffset: $1, as: Int8.self)) }
        case .uint8, .bool: load = { Int64($0.loadUnaligned(fromByteOffset: $1, as: UInt8.self)) }
        default: return nil
        }
        var result = [Int64](repeating: 0, count: info.elementCount)
        forEachElementOffset(info) { index, element in result[index] = load(storage, element * size) }
        return result
    }

    /// Calls `body(outputIndex, storageElement)` for every element in row-major order.
    private static func forEachElementOffset(_ info: TorchTensorInfo, _ body: (Int, Int) -> Void) {
        let count = info.elementCount
        guard count > 0 else { return }
        guard let innerSize = info.shape.last, let innerStride = info.strides.last else {
            body(0, info.storageOffset)  // a 0-dimensional tensor
            return
        }
        var index = [Int](repeating: 0, count: info.shape.count - 1)
        var rowStart = info.storageOffset
        var output = 0
        while output < count {
            for inner in 0..<innerSize { body(output + inner, rowStart + inner * innerStride) }
            output += innerSize
            // Odometer over the outer dimensions.
            var dimension = index.count - 1
            while dimension >= 0 {
                index[dimension] += 1
                rowStart += info.strides[dimension]
                if index[dimension] < info.shape[dimension] { break }
                rowStart -= index[dimension] * info.strides[dimension]
                index[dimension] = 0
                dimension -= 1
            }
        }
    }

    private static func elementLoader(_ dtype: SafeTensorsDType) -> (UnsafeRawBufferPointer, Int) -> Float {
        switch dtype {
        case .float32: return { $0.loadUnaligned(fromByteOffset: $1, as: Float.self) }
        case .float16: return { Float(Float16(bitPattern: $0.loadUnaligned(fromByteOffset: $1, as: UInt16.self))) }
        case .bfloat16:
            return { Float(bitPattern: UInt32($0.loadUnaligned(fromByteOffset: $1, as: UInt16.self)) << 16) }
        case .float64: return { Float($0.loadUnaligned(fromByteOffset: $1, as: Double.self)) }
        case .int64: return { Float($0.loadUnaligned(fromByteOffset: $1, as: Int64.self)) }
        case .int32: return { Float($0.loadUnaligned(fromByteOffset: $1, as: Int32.self)) }
        case .int16: return { Float($0.loadUnaligned(fromByteOffset: $1, as: Int16.self)) }
        case .int8: return { Float($0.loadUnaligned(fromByteOffset: $1, as: Int8.self)) }
        case .uint64: return { Float($0.loadUnaligned(fromByteOffset: $1, as: UInt64.self)) }
        case .uint32: return { Float($0.loadUnaligned(fromByteOffset: $1, as: UInt32.self)) }
        case .uint16: return { Float($0.loadUnaligned(fromByteOffset: $1, as: UInt16.self)) }
        case .uint8, .bool: return { Float($0.loadUnaligned(fromByteOffset: $1, as: UInt8.self)) }
        }
    }
}
