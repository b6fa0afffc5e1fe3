import Latentflow

/// One timed case of `latentflow-tools bench`, and the kernel cases on full-size SD1.5 shapes.
struct KernelBenchmark {
    let name: String
    var seconds: Double
    let gflops: Double
    var ratio: Double = 1
    var peakBytes = ModelBenchmark.peakResidentBytes()
    /// A comparison the row stands for (the batch cases against batch 1).
    var note: String?

    static func runAll(repeats: Int, reference: ReferenceRate) throws -> [KernelBenchmark] {
        let conv320 = try conv(channels: 320, size: 64, repeats: repeats, reference: reference)
        return [
            try bfloat16Product(repeats: repeats, reference: reference),
            conv320,
            try groupNormSiLU(channels: 320, size: 64, feeding: conv320, repeats: repeats, reference: reference),
            try conv(channels: 640, size: 32, repeats: repeats, reference: reference),
            try conv(channels: 512, size: 128, repeats: repeats, reference: reference),  // the VAE decoder at 512 px
            try conv(channels: 64, size: 512, repeats: repeats, reference: reference),  // TAESD's last level at 512 px
            try conv(channels: 64, size: 128, repeats: repeats, reference: reference),  // TAESD's second level
            try attention(tokens: 4096, heads: 8, headDim: 40, repeats: repeats, reference: reference),
        ]
    }

    static func conv(channels: Int, size: Int, repeats: Int, reference: ReferenceRate) throws -> KernelBenchmark {
        let x = random([1, channels, size, size]), w = random([channels, channels, 3, 3], scale: 0.02),
            b = random([channels])
        let gflop = 2.0 * Double(channels * channels * 9 * size * size) / 1e9
        let layer = WinogradWeightCache()  // as a model's layer keeps it (within --winograd-cache-mb)
        return try reference.measure(
            "conv2d 3x3 \(channels)->\(channels) at \(size)x\(size)", gflop: gflop, repeats: repeats
        ) {
            _ = try x.conv2d(weight: w, bias: b, stride: 1, padding: .uniform(1), winogradCache: layer)
        }
    }

    /// The GroupNorm→SiLU pass that opens a ResNet block, timed against the convolution it feeds:
    /// what fusing it into that convolution's input transform could save at most (the pass
    /// would shrink to its statistics, the transform would compute the SiLU instead).
    static func groupNormSiLU(
        channels: Int, size: Int, feeding conv: KernelBenchmark, repeats: Int, reference: ReferenceRate
    ) throws -> KernelBenchmark {
        let x = random([1, channels, size, size]), gamma = random([channels]), beta = random([channels])
        // Counted as 0 GFLOP: the pass is memory- and exp-bound; its row reports time only.
        var result = try reference.measure(
            "group norm 32 + SiLU, \(channels) ch at \(size)x\(size)", gflop: 0, repeats: repeats
        ) {
            _ = try x.groupNorm(groups: 32, weight: gamma, bias: beta, epsilon: 1e-5, fuseSiLU: true)
        }
        result.note = String(format: "%.1f%% of the conv it feeds", 100 * result.seconds / conv.seconds)
        return result
    }

    /// R's product with bfloat16 inputs (`BFloat16GEMM`, float32 sums): AVX512-BF16 where the CPU
    /// has it, else the float32 emulation (which the row's name says).
    static func bfloat16Product(repeats: Int, reference: ReferenceRate) throws -> KernelBenchmark {
        let (m, k, n) = (reference.m, reference.k, reference.n)
        let w = random([m, k]), x = random([k, n])
        var c = Tensor(shape: [m, n])
        let weight = BFloat16GEMM.Weight(w)
        let path = BFloat16GEMM.useNativeKernel ? "AVX512-BF16" : "emulated in float32"
        return try x.withUnsafeBufferPointer { xs in
            try c.withUnsafeMutableBufferPointer { cs in
                try reference.measure(
                    "bfloat16 GEMM \(m)x\(k) · \(k)x\(n) (\(path))", gflop: reference.gflop, repeats: repeats
                ) {
                    BFloat16GEMM.multiply(
                        weight, columns: n, x: xs.baseAddress!, ldx: n, accumulate: false, c: cs.baseAddress!, ldc: n)
                }
            }
        }
    }

    static func attention(tokens: Int, heads: Int, headDim: Int, repeats: Int, reference: ReferenceRate) throws
        -> KernelBenchmark
    {
        let q = random([1, tokens, heads * headDim]), k = random([1, tokens, heads * headDim]),
            v = random([1, tokens, heads * headDim])
        let gflop = 4.0 * Double(tokens * tokens * headDim * heads) / 1e9
        return try reference.measure(
            "attention \(tokens) tokens x \(heads) heads x \(headDim)", gflop: gflop, repeats: repeats
        ) {
            _ = try q.attention(key: k, value: v, heads: heads)
        }
    }

    static func random(_ shape: [Int], scale: Float = 1) -> Tensor {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        return Tensor(shape: shape) { out in
            for i in 0..<out.count {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                out[i] = (Float(state >> 40) / Float(1 << 24) - 0.5) * 2 * scale
            }
        }
    }
}
