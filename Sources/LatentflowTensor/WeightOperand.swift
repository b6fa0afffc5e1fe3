import Synchronization

/// A layer weight as a product receives it: float32 values, or bfloat16 values (a UNet stored in
/// bfloat16, as ComfyUI's `--bf16-unet` stores it) that are widened to float32 only if the
/// product needs float32 values. A product in bfloat16 whose weight forms are kept
/// (`BFloat16WeightCache`) reads none, so a weight stored in bfloat16 costs no float32 copy per
/// call, where widening every weight of a UNet per step would move about 5 GB.
public struct WeightOperand: Sendable {
    public let shape: [Int]
    fileprivate let storage: Storage

    fileprivate enum Storage: Sendable {
        case float32(Tensor)
        case bfloat16([UInt16])
    }

    public static func float32(_ tensor: Tensor) -> WeightOperand {
        WeightOperand(shape: tensor.shape, storage: .float32(tensor))
    }

    /// `bits` are the weight's bfloat16 values in `shape`'s row-major order.
    public static func bfloat16(shape: [Int], bits: [UInt16]) -> WeightOperand {
        precondition(shape.reduce(1, *) == bits.count, "bfloat16 weight of shape \(shape) with \(bits.count) values")
        return WeightOperand(shape: shape, storage: .bfloat16(bits))
    }

    public var rank: Int { shape.count }

    /// Runs `body` with the weight's float32 values on demand: valid until `body` returns.
    func withValues<R>(_ body: (WeightValues) throws -> R) rethrows -> R {
        switch storage {
        case .float32(let tensor):
            return try tensor.withUnsafeBufferPointer { try body(WeightValues(pointer: $0.baseAddress!)) }
        case .bfloat16(let bits):
            return try bits.withUnsafeBufferPointer { try body(WeightValues(widening: $0)) }
        }
    }

    /// How many times a bfloat16 weight has been widened to float32 (for the tests that check a
    /// product with kept forms reads none).
    public static var widenings: Int { widened.load(ordering: .relaxed) }
    fileprivate static let widened = Atomic(0)
}

/// A weight's float32 values for the kernels, made on first use: `pointer` widens a bfloat16
/// weight into a buffer of its own (freed with this object), once.
final class WeightValues {
    private let given: UnsafePointer<Float>?
    private let bits: UnsafeBufferPointer<UInt16>?
    private var widened: UnsafeMutableBufferPointer<Float>?

    init(pointer: UnsafePointer<Float>) { (given, bits) = (pointer, nil) }
    init(widening bits: UnsafeBufferPointer<UInt16>) { (given, self.bits) = (nil, bits) }

    deinit { widened?.deallocate() }

    var pointer: UnsafePointer<Float> {
        if let given { return given }
        if let widened { return UnsafePointer(widened.baseAddress!) }
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: bits!.count)
        HalfPrecision.parallelWiden(bits!, into: buffer, using: HalfPrecision.widenBFloat16)
        widened = buffer
        WeightOperand.widened.add(1, ordering: .relaxed)
        return UnsafePointer(buffer.baseAddress!)
    }
}
