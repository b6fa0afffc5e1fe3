/// Lane-by-lane reproductions of the avx_mathfun routines (Julien Pommier's Cephes-derived
/// `log256_ps` and `sincos256_ps`) that PyTorch's AVX2 `normal_fill_16_AVX2` uses, in the same
/// float32 operation order, so noise matches PyTorch on AVX2 machines bit for bit.
///
/// PyTorch builds these with FMA enabled and GCC contracts each multiply whose only use is an
/// add into a fused multiply-add (the first multiply in program order when an add has two),
/// so the fused steps below are where GCC fuses them; unfused they differ in ~1% of values.
enum AVXMathFunctions {
    /// Box–Muller on 16 uniforms in place: `u1 = 1 − d[j]`, `u2 = d[j+8]`,
    /// `d[j] = sqrt(−2·log u1)·cos(2π·u2)`, `d[j+8] = …·sin(2π·u2)`.
    static func boxMuller16(_ d: UnsafeMutablePointer<Float>) {
        let twoPi = Float(2.0 * Double.pi)
        for j in 0..<8 {
            let u1 = 1 - d[j], u2 = d[j + 8]
            let radius = (-2 * log(u1)).squareRoot()
            let (s, c) = sincos(twoPi * u2)
            d[j] = radius * c
            d[j + 8] = radius * s
        }
    }

    static func log(_ input: Float) -> Float {
        if input <= 0 { return .nan }
        var x = max(input, Float(bitPattern: 0x0080_0000))  // smallest normal
        var exponent = Int32(bitPattern: x.bitPattern >> 23)
        x = Float(bitPattern: (x.bitPattern & ~0x7F80_0000) | Float(0.5).bitPattern)
        exponent -= 0x7F
        var e = Float(exponent) + 1
        let below = x < 0.707_106_781_186_547_524
        let tmp: Float = below ? x : 0
        x = x - 1
        e = e - (below ? 1 : 0)
        x = x + tmp
        let z = x * x
        var y: Float = 7.037_683_629_2e-2
        for coefficient: Float in [
            -1.151_461_031_0e-1, 1.167_699_874_0e-1, -1.242_014_084_6e-1, 1.424_932_278_7e-1,
            -1.666_805_766_5e-1, 2.000_071_476_5e-1, -2.499_999_399_3e-1, 3.333_333_117_4e-1,
        ] {
            y = coefficient.addingProduct(y, x)
        }
        y = y * x
        y = (e * -2.121_944_40e-4).addingProduct(y, z)
        y = y.addingProduct(z, -0.5)
        x = x + y
        x = x.addingProduct(e, 0.693_359_375)
        return x
    }

    static func sincos(_ input: Float) -> (sin: Float, cos: Float) {
        var signSin = input.bitPattern & 0x8000_0000
        var x = Float(bitPattern: input.bitPattern & 0x7FFF_FFFF)
        var y = x * 1.273_239_544_735_16
        var j = Int32(y)  // truncation, as _mm256_cvttps_epi32
        j = (j &+ 1) & ~1
        y = Float(j)
        let swapSin = UInt32(bitPattern: (j & 4) << 29)
        let usePolynomial1 = (j & 2) == 0
        x = x.addingProduct(y, -0.785_156_25)
        x = x.addingProduct(y, -2.418_756_484_985_351_562_5e-4)
        x = x.addingProduct(y, -3.774_894_977_445_941_08e-8)
        let signCos = UInt32(bitPattern: (~(j &- 2) & 4) << 29)
        signSin ^= swapSin
        let z = x * x
        var c: Float = 2.443_315_711_809_948e-5
        c = Float(-1.388_731_625_493_765e-3).addingProduct(c, z)
        c = Float(4.166_664_568_298_827e-2).addingProduct(c, z)
        c = c * z
        c = (-(z * 0.5)).addingProduct(c, z)
        c = c + 1
        var s: Float = -1.951_529_589_1e-4
        s = Float(8.332_160_873_6e-3).addingProduct(s, z)
        s = Float(-1.666_665_461_1e-1).addingProduct(s, z)
        s = s * z
        s = x.addingProduct(s, x)
        let sinValue = usePolynomial1 ? s : c
        let cosValue = usePolynomial1 ? c : s
        return (Float(bitPattern: sinValue.bitPattern ^ signSin), Float(bitPattern: cosValue.bitPattern ^ signCos))
    }
}
