#if arch(x86_64)
    import _Builtin_intrinsics.intel
#endif

// Loads, stores and reductions on raw pointers and SIMD values only: everything here is inlined
// into this module's kernels, so no AVX-512 code is emitted as a function that another module
// could share through the linker.

@inline(__always)
func load16(_ pointer: UnsafePointer<Float>) -> Vec16 { UnsafeRawPointer(pointer).loadUnaligned(as: Vec16.self) }

@inline(__always)
func load16(_ pointer: UnsafeMutablePointer<Float>) -> Vec16 { load16(UnsafePointer(pointer)) }

@inline(__always)
func store16(_ value: Vec16, _ pointer: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: Vec16.self)
}

@inline(__always)
func load8(_ pointer: UnsafePointer<Float>) -> Vec8 { UnsafeRawPointer(pointer).loadUnaligned(as: Vec8.self) }

@inline(__always)
func load8(_ pointer: UnsafeMutablePointer<Float>) -> Vec8 { load8(UnsafePointer(pointer)) }

@inline(__always)
func store8(_ value: Vec8, _ pointer: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: Vec8.self)
}

@inline(__always)
func vmax(_ a: Vec16, _ b: Vec16) -> Vec16 { a.replacing(with: b, where: a .< b) }

/// The largest lane, halving in registers.
@inline(__always)
func horizontalMax(_ m: Vec16) -> Float {
    let eight = m.lowHalf.replacing(with: m.highHalf, where: m.lowHalf .< m.highHalf)
    let four = eight.lowHalf.replacing(with: eight.highHalf, where: eight.lowHalf .< eight.highHalf)
    return max(max(four[0], four[1]), max(four[2], four[3]))
}

@inline(__always)
func horizontalSum(_ s: Vec16) -> Float {
    let eight = s.lowHalf + s.highHalf
    let four = eight.lowHalf + eight.highHalf
    return (four[0] + four[1]) + (four[2] + four[3])
}

/// 2^x for x at or below 0, LatentflowTensor's `vexp2NonPositive` at 16 lanes (the same
/// constants, so both paths give the same probabilities): x = n + j/8 + r, 2^(j/8) from a table
/// in one register, 2^r - 1 = r·P(r) of degree 3.
@inline(__always)
func vexp2NonPositive(_ input: Vec16) -> Vec16 {
    let x = vmax(input, Vec16(repeating: -125))
    let magic = Vec16(repeating: 1_572_864.0)
    let shifted = x + magic
    let r = x - (shifted - magic)
    var p = Vec16(repeating: 0.240_257_621).addingProduct(Vec16(repeating: 0.055_496_215_8), r)
    p = Vec16(repeating: 0.693_147_242).addingProduct(p, r)
    let powerOfRMinusOne = p * r
    let bits = unsafeBitCast(shifted, to: SIMD16<UInt32>.self)
    let scale = unsafeBitCast(((bits &>> 3) &+ (127 &- (0x49C0_0000 >> 3))) &<< 23, to: Vec16.self)
    let t = lookupEighths(bits) * scale
    return t.addingProduct(t, powerOfRMinusOne)
}

/// 2^(j/8) for j = the low three bits of each lane of `index` (the table holds its eight values
/// twice, so the fourth bit the instruction reads does not matter).
@inline(__always)
private func lookupEighths(_ index: SIMD16<UInt32>) -> Vec16 {
    let table = Vec16(
        1.0, 1.090_507_732_665_257_7, 1.189_207_115_002_721, 1.296_839_554_651_009_6,
        1.414_213_562_373_095_1, 1.542_210_825_407_940_8, 1.681_792_830_507_429, 1.834_008_086_409_342_5,
        1.0, 1.090_507_732_665_257_7, 1.189_207_115_002_721, 1.296_839_554_651_009_6,
        1.414_213_562_373_095_1, 1.542_210_825_407_940_8, 1.681_792_830_507_429, 1.834_008_086_409_342_5)
    #if arch(x86_64)
        // vpermps on zmm: one instruction, reading the low four bits of each index.
        return _mm512_permutexvar_ps(unsafeBitCast(index, to: __m512i.self), table)
    #else
        var result = Vec16()
        for lane in 0..<16 { result[lane] = table[Int(index[lane] & 7)] }
        return result
    #endif
}
