import Foundation
import LatentflowTensor

/// PyTorch's CPU random generator, bit for bit: `torch.manual_seed(seed)` followed by
/// `torch.randn(shape)` in float32, the way ComfyUI draws all its noise.
///
/// Matches: pytorch `aten/src/ATen/core/MT19937RNGEngine.h` (the engine, seeded from the low
/// 32 bits), `aten/src/ATen/core/TransformationHelper.h` (24-bit uniforms) and
/// `aten/src/ATen/native/cpu/DistributionTemplates.h` `normal_fill` with its AVX2 variant
/// `normal_fill_16_AVX2` (Box–Muller over blocks of 16 using avx_mathfun's `log256_ps` and
/// `sincos256_ps`, reproduced lane by lane in `AVXMathFunctions`).
public struct TorchCPUGenerator: Sendable {
    private var state = [UInt32](repeating: 0, count: 624)
    private var index = 624

    public init(seed: UInt64) {
        state[0] = UInt32(truncatingIfNeeded: seed)
        for i in 1..<624 {
            state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i)
        }
        index = 624
    }

    /// The next tempered 32-bit output of MT19937.
    public mutating func nextUInt32() -> UInt32 {
        if index >= 624 { twist() }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }

    private mutating func twist() {
        for i in 0..<624 {
            let y = (state[i] & 0x8000_0000) | (state[(i + 1) % 624] & 0x7FFF_FFFF)
            state[i] = state[(i + 397) % 624] ^ (y >> 1) ^ ((y & 1) != 0 ? 0x9908_B0DF : 0)
        }
        index = 0
    }

    /// A float uniform in [0, 1) from 24 random bits, as `uniform_real_distribution<float>`.
    public mutating func nextUniform() -> Float {
        Float(nextUInt32() & 0xFF_FFFF) * Float(1.0 / 16_777_216.0)
    }

    /// `torch.randn(shape)` on this generator: standard normal float32, contiguous.
    public mutating func randn(_ shape: [Int]) throws -> Tensor {
        let count = shape.reduce(1, *)
        guard count >= 16 else {
            throw TensorError.invalidArgument(
                "noise of \(count) elements: PyTorch uses another algorithm below 16 elements, which Latentflow does not reproduce"
            )
        }
        var data = [Float](repeating: 0, count: count)
        for i in 0..<count { data[i] = nextUniform() }
        data.withUnsafeMutableBufferPointer { buffer in
            var i = 0
            while i + 16 <= count {
                AVXMathFunctions.boxMuller16(buffer.baseAddress! + i)
                i += 16
            }
            if count % 16 != 0 {
                // The tail: redraw the last 16 positions and transform them again.
                let tail = buffer.baseAddress! + count - 16
                for j in 0..<16 { tail[j] = nextUniform() }
                AVXMathFunctions.boxMuller16(tail)
            }
        }
        return try Tensor(shape: shape, scalars: data)
    }
}

/// ComfyUI's `prepare_noise`: one draw for the whole latent, or with `batch_index` one
/// `[1, C, H, W]` draw per index up to the largest, kept for the indices present.
public func comfyInitialNoise(shape: [Int], seed: UInt64, batchIndex: [Int]? = nil) throws -> Tensor {
    var generator = TorchCPUGenerator(seed: seed)
    return try comfyInitialNoise(shape: shape, generator: &generator, batchIndex: batchIndex)
}

/// `prepare_noise` from a freshly seeded `generator`, which is left where the draws leave torch's
/// global generator.
public func comfyInitialNoise(
    shape: [Int], generator: inout TorchCPUGenerator, batchIndex: [Int]? = nil
) throws -> Tensor {
    guard let batchIndex, !batchIndex.isEmpty else { return try generator.randn(shape) }
    let itemShape = [1] + shape.dropFirst()
    var draws: [Int: Tensor] = [:]
    let wanted = Set(batchIndex)
    for i in 0...(batchIndex.max() ?? 0) {
        let draw = try generator.randn(itemShape)
        if wanted.contains(i) { draws[i] = draw }
    }
    return try Tensor.concat(batchIndex.map { draws[$0]! }, axis: 0)
}
