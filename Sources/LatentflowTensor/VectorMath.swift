#if arch(x86_64)
    import _Builtin_intrinsics.intel
#endif

/// Vectorized transcendental functions on 8-wide float vectors (one AVX register).
///
/// `vexp` follows Cephes `expf`: range reduction by n·ln2 with a split constant, a degree-6
/// polynomial, and 2^n built in the exponent bits; about 1 ulp over its clamped range.
typealias Vec8 = SIMD8<Float>

@inline(__always)
func vexp(_ input: Vec8) -> Vec8 {
    // exp(88) is near FLT_MAX; below -87.3 results would be denormal. Callers (softmax, sigmoid)
    // only ever need the clamped values.
    let x = vmin(vmax(input, Vec8(repeating: -87.33654)), Vec8(repeating: 88.0))
    // Adding 1.5·2^23 rounds x·log2(e) to an integer n held in the low mantissa bits.
    let magic = Vec8(repeating: 12_582_912.0)
    let shifted = magic.addingProduct(x, Vec8(repeating: 1.442_695_04))
    let n = shifted - magic
    var r = x.addingProduct(n, Vec8(repeating: -0.693_359_375))
    r = r.addingProduct(n, Vec8(repeating: 2.121_944_40e-4))
    var p = Vec8(repeating: 1.987_569_150_0e-4)
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    let poly = (p * (r * r)) + r + 1
    let bits = unsafeBitCast(shifted, to: SIMD8<UInt32>.self)
    let scale = unsafeBitCast((bits &+ 0xB4C0_007F) &<< 23, to: Vec8.self)
    return poly * scale
}

/// 2^x for x at or below 0 (softmax in base 2, after subtracting the row maximum), with the
/// shortest dependency chain we found: the softmax is bound by the latency of this chain, not by
/// the number of operations. x = n + j/8 + r with |r| <= 1/16 (rounding to eighths, exact);
/// 2^(j/8) comes from an eight-entry table held in one register (`lookupEighths`), so 2^r needs
/// only a degree-3 polynomial, 2^r - 1 = r·P(r); the table value times 2^n is formed off the
/// chain and the result is one fused multiply-add, `t + t·(2^r - 1)`. Within 1.2 ulp of 2^x
/// (a minimax P for relative error, fitted in `scripts/fit_exp2_polynomial.py`).
@inline(__always)
package func vexp2NonPositive(_ input: SIMD8<Float>) -> SIMD8<Float> {
    // Clamped so that 2^n stays normal (2^-125 times the table's 1 to 2^(7/8)).
    let x = vmax(input, Vec8(repeating: -125))
    // Adding 1.5·2^20 (ulp 1/8) rounds x to eighths, 8n + j held in the low mantissa bits.
    let magic = Vec8(repeating: 1_572_864.0)
    let shifted = x + magic
    let r = x - (shifted - magic)
    var p = Vec8(repeating: 0.240_257_621).addingProduct(Vec8(repeating: 0.055_496_215_8), r)
    p = Vec8(repeating: 0.693_147_242).addingProduct(p, r)
    let powerOfRMinusOne = p * r
    let bits = unsafeBitCast(shifted, to: SIMD8<UInt32>.self)
    // (bits >> 3) is n plus magic's exponent bits over 8; rebias to 127 for 2^n.
    let scale = unsafeBitCast(((bits &>> 3) &+ (127 &- (0x49C0_0000 >> 3))) &<< 23, to: Vec8.self)
    let t = lookupEighths(bits) * scale
    return t.addingProduct(t, powerOfRMinusOne)
}

/// 2^(j/8) for j = the low three bits of each lane of `bits`.
@inline(__always)
private func lookupEighths(_ bits: SIMD8<UInt32>) -> Vec8 {
    let table = Vec8(
        1.0, 1.090_507_732_665_257_7, 1.189_207_115_002_721, 1.296_839_554_651_009_6,
        1.414_213_562_373_095_1, 1.542_210_825_407_940_8, 1.681_792_830_507_429, 1.834_008_086_409_342_5)
    #if arch(x86_64)
        // vpermps: one instruction, which reads only the low three bits of each index.
        return unsafeBitCast(
            _mm256_permutevar8x32_ps(
                unsafeBitCast(table, to: __m256.self),
                unsafeBitCast(bits, to: __m256i.self)), to: Vec8.self)
    #else
        var result = Vec8()
        for lane in 0..<8 { result[lane] = table[Int(bits[lane] & 7)] }
        return result
    #endif
}

@inline(__always)
func vsigmoid(_ x: Vec8) -> Vec8 {
    1 / (1 + vexp(-x))
}

/// erf through the Numerical Recipes erfc approximation (fractional error below 1.2e-7), so
/// 1 + erf(x) in GELU is off by at most about one float ulp.
@inline(__always)
func verf(_ x: Vec8) -> Vec8 {
    let sign = Vec8(repeating: 1).replacing(with: -1, where: x .< 0)
    let a = vabs(x)
    // erfc(a) = t·exp(-a² + P(t)) with t = 1/(1 + a/2).
    let t = 1 / (1 + 0.5 * a)
    var poly = Vec8(repeating: 0.170_872_77)
    poly = poly * t - 0.822_152_23
    poly = poly * t + 1.488_515_87
    poly = poly * t - 1.135_203_98
    poly = poly * t + 0.278_868_07
    poly = poly * t - 0.186_288_06
    poly = poly * t + 0.096_784_18
    poly = poly * t + 0.374_091_96
    poly = poly * t + 1.000_023_68
    poly = poly * t - 1.265_512_23
    let erfc = t * vexp(poly - a * a)
    return sign * (1 - erfc)
}

// The standard library's pointwiseMin/Max and clamped(...) honour IEEE NaN rules lane by lane
// and compile to scalar code; these compare-and-blend forms stay in vector registers.
@inline(__always)
func vmax(_ a: Vec8, _ b: Vec8) -> Vec8 { a.replacing(with: b, where: a .< b) }

@inline(__always)
func vmin(_ a: Vec8, _ b: Vec8) -> Vec8 { a.replacing(with: b, where: b .< a) }

@inline(__always)
func vabs(_ x: Vec8) -> Vec8 {
    unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: Vec8.self)
}

@inline(__always)
func load8(_ pointer: UnsafePointer<Float>) -> Vec8 {
    UnsafeRawPointer(pointer).loadUnaligned(as: Vec8.self)
}

@inline(__always)
func store8(_ value: Vec8, _ pointer: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: Vec8.self)
}

/// Loads up to 8 floats, zero-filling past `count`: the tail of a vector loop.
@inline(__always)
func loadPartial(_ pointer: UnsafePointer<Float>, _ count: Int) -> Vec8 {
    var v = Vec8()
    for i in 0..<count { v[i] = pointer[i] }
    return v
}

@inline(__always)
func storePartial(_ value: Vec8, _ pointer: UnsafeMutablePointer<Float>, _ count: Int) {
    for i in 0..<count { pointer[i] = value[i] }
}

/// Applies a vector function to `count` floats, `src` to `dst` (which may alias).
@inline(__always)
func mapVectors(
    _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ count: Int,
    _ op: (Vec8) -> Vec8
) {
    var i = 0
    while i + 8 <= count {
        store8(op(load8(src + i)), dst + i)
        i += 8
    }
    if i < count { storePartial(op(loadPartial(src + i, count - i)), dst + i, count - i) }
}

/// Sum of `count` floats with 4 independent vector accumulators.
@inline(__always)
func vectorSum(_ p: UnsafePointer<Float>, _ count: Int) -> Float {
    var a0 = Vec8(), a1 = Vec8(), a2 = Vec8(), a3 = Vec8()
    var i = 0
    while i + 32 <= count {
        a0 += load8(p + i)
        a1 += load8(p + i + 8)
        a2 += load8(p + i + 16)
        a3 += load8(p + i + 24)
        i += 32
    }
    while i + 8 <= count {
        a0 += load8(p + i)
        i += 8
    }
    var total = ((a0 + a1) + (a2 + a3)).sum()
    while i < count {
        total += p[i]
        i += 1
    }
    return total
}
