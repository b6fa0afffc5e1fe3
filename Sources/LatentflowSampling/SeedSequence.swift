/// NumPy's `numpy.random.SeedSequence`: hashes an entropy integer and a spawn key into a pool of
/// 32-bit words and draws seed words from it. torchsde's Brownian tree names every node's random
/// draws this way, so reproducing ComfyUI's SDE samplers needs it bit for bit.
///
/// Matches: numpy `numpy/random/bit_generator.pyx` (`SeedSequence.mix_entropy`,
/// `generate_state`, `_coerce_to_uint32_array`), Melissa O'Neill's seed_seq design.
public struct SeedSequence: Sendable {
    private static let initA: UInt32 = 0x43b0_d7e5, multA: UInt32 = 0x931e_8875
    private static let initB: UInt32 = 0x8b51_f9dd, multB: UInt32 = 0x58f3_8ded
    private static let mixMultL: UInt32 = 0xca01_f9dd, mixMultR: UInt32 = 0x4973_f715

    private var pool: [UInt32]

    /// - Parameters:
    ///   - entropy: the seed, a non-negative integer split into 32-bit words, low word first.
    ///   - spawnKey: the child's path; each element is split into words the same way.
    ///   - poolSize: words of hashed state (NumPy's default is 4; torchsde uses 24 for trees).
    public init(entropy: UInt64, spawnKey: [UInt64] = [], poolSize: Int = 4) {
        var run = Self.words(entropy)
        let spawn = spawnKey.flatMap(Self.words)
        // NumPy pads the run entropy with zeros to the pool size when a spawn key follows, so that
        // a child's words can never collide with another seed's.
        if !spawn.isEmpty && run.count < poolSize { run += [UInt32](repeating: 0, count: poolSize - run.count) }
        pool = Self.mix(run + spawn, poolSize: poolSize)
    }

    /// `generate_state(count)` with dtype uint32.
    public func generateState(_ count: Int) -> [UInt32] {
        var hashConst = Self.initB
        return (0..<count).map { i in
            var value = pool[i % pool.count] ^ hashConst
            hashConst = hashConst &* Self.multB
            value = value &* hashConst
            return value ^ (value >> 16)
        }
    }

    /// `_int_to_uint32_array`: 0 is one zero word; otherwise as many words as the value needs.
    private static func words(_ value: UInt64) -> [UInt32] {
        let low = UInt32(truncatingIfNeeded: value), high = UInt32(truncatingIfNeeded: value >> 32)
        return high == 0 ? [low] : [low, high]
    }

    private static func hashmix(_ value: UInt32, _ hashConst: inout UInt32) -> UInt32 {
        var value = value ^ hashConst
        hashConst = hashConst &* multA
        value = value &* hashConst
        return value ^ (value >> 16)
    }

    private static func mix(_ x: UInt32, _ y: UInt32) -> UInt32 {
        let result = mixMultL &* x &- mixMultR &* y
        return result ^ (result >> 16)
    }

    private static func mix(_ entropy: [UInt32], poolSize: Int) -> [UInt32] {
        var hashConst = initA
        var mixer = (0..<poolSize).map { hashmix($0 < entropy.count ? entropy[$0] : 0, &hashConst) }
        for source in 0..<poolSize {
            for destination in 0..<poolSize where source != destination {
                mixer[destination] = mix(mixer[destination], hashmix(mixer[source], &hashConst))
            }
        }
        for source in poolSize..<max(poolSize, entropy.count) {
            for destination in 0..<poolSize {
                mixer[destination] = mix(mixer[destination], hashmix(entropy[source], &hashConst))
            }
        }
        return mixer
    }
}
