/// float16 and bfloat16 storage, widened to float32 for compute.
///
/// Checkpoints store weights in 16-bit formats; the tensor layer computes in float32 only, so
/// conversion happens once per tensor at load, or (low-memory models) each time a layer runs.
public enum HalfPrecision {
    /// IEEE half-precision bits to float32 (exact).
    public static func widenFloat16(_ bits: UnsafeBufferPointer<UInt16>, into out: UnsafeMutableBufferPointer<Float>) {
        precondition(out.count >= bits.count)
        for i in 0..<bits.count { out[i] = Float(Float16(bitPattern: bits[i])) }
    }

    /// bfloat16 bits to float32 (exact: bfloat16 is the top half of a float32).
    public static func widenBFloat16(_ bits: UnsafeBufferPointer<UInt16>, into out: UnsafeMutableBufferPointer<Float>) {
        precondition(out.count >= bits.count)
        for i in 0..<bits.count { out[i] = Float(bitPattern: UInt32(bits[i]) << 16) }
    }

    /// `widen` over large buffers, split across the cores in cache-friendly chunks.
    public static func parallelWiden(
        _ bits: UnsafeBufferPointer<UInt16>, into out: UnsafeMutableBufferPointer<Float>,
        using widen: (UnsafeBufferPointer<UInt16>, UnsafeMutableBufferPointer<Float>) -> Void
    ) {
        precondition(out.count >= bits.count)
        let chunk = 1 << 16
        let chunks = (bits.count + chunk - 1) / chunk
        guard chunks > 1 else { return widen(bits, out) }
        parallelFor(chunks) { c in
            let range = (c * chunk)..<min(bits.count, (c + 1) * chunk)
            widen(UnsafeBufferPointer(rebasing: bits[range]), UnsafeMutableBufferPointer(rebasing: out[range]))
        }
    }

    /// float32 to IEEE half bits, rounding to nearest even (as `tensor.half()`).
    public static func narrowToFloat16(_ values: UnsafeBufferPointer<Float>) -> [UInt16] {
        values.map { Float16($0).bitPattern }
    }

    /// float32 to bfloat16 bits, rounding to nearest even (as `tensor.bfloat16()`); NaN stays NaN.
    /// Split across the cores: `--bf16-unet` rounds a whole UNet this way as it loads.
    public static func narrowToBFloat16(_ values: UnsafeBufferPointer<Float>) -> [UInt16] {
        [UInt16](unsafeUninitializedCapacity: values.count) { out, initialized in
            let chunk = 1 << 16
            parallelFor((values.count + chunk - 1) / chunk) { c in
                for i in (c * chunk)..<min(values.count, (c + 1) * chunk) { out[i] = bfloat16Bits(values[i]) }
            }
            initialized = values.count
        }
    }

    /// One value's bfloat16 bits, rounded to nearest even; NaN becomes the canonical quiet NaN.
    @inline(__always)
    public static func bfloat16Bits(_ value: Float) -> UInt16 {
        if value.isNaN { return 0x7FC0 }
        let bits = value.bitPattern
        let roundingBias = UInt32(0x7FFF) + ((bits >> 16) & 1)
        return UInt16((bits &+ roundingBias) >> 16)
    }
}

extension Tensor {
    /// A float32 tensor from float16 bits.
    public init(shape: [Int], float16Bits bits: [UInt16]) throws {
        try requireShape(shape.reduce(1, *) == bits.count, "shape \(shape) for \(bits.count) float16 values")
        self.init(shape: shape) { out in bits.withUnsafeBufferPointer { HalfPrecision.widenFloat16($0, into: out) } }
    }

    /// A float32 tensor from bfloat16 bits.
    public init(shape: [Int], bfloat16Bits bits: [UInt16]) throws {
        try requireShape(shape.reduce(1, *) == bits.count, "shape \(shape) for \(bits.count) bfloat16 values")
        self.init(shape: shape) { out in bits.withUnsafeBufferPointer { HalfPrecision.widenBFloat16($0, into: out) } }
    }

    public var float16Bits: [UInt16] { withUnsafeBufferPointer { HalfPrecision.narrowToFloat16($0) } }
    public var bfloat16Bits: [UInt16] { withUnsafeBufferPointer { HalfPrecision.narrowToBFloat16($0) } }
}
