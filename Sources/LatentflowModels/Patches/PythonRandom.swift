/// The part of CPython's `random` module HyperTile uses: `random.seed(n)` for a non-negative
/// integer below 2³² and `random.randint(0, b)`, both on CPython's MT19937.
///
/// Matches: CPython `Modules/_randommodule.c` (`init_by_array`, `genrand_uint32`) and
/// `Lib/random.py` (`_randbelow_with_getrandbits`, `getrandbits` for k ≤ 32).
struct PythonRandom {
    private var state = [UInt32](repeating: 0, count: 624)
    private var index = 624

    /// `random.seed(seed)`: the integer's 32-bit words as the key (0 is the one-word key [0]).
    init(seed: UInt32) {
        state[0] = 19_650_218
        for i in 1..<624 { state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i) }
        let key = [seed]
        var (i, j) = (1, 0)
        for _ in 0..<max(624, key.count) {
            state[i] = (state[i] ^ ((state[i - 1] ^ (state[i - 1] >> 30)) &* 1_664_525)) &+ key[j] &+ UInt32(j)
            (i, j) = (i + 1, j + 1)
            if i >= 624 { (state[0], i) = (state[623], 1) }
            if j >= key.count { j = 0 }
        }
        for _ in 0..<623 {
            state[i] = (state[i] ^ ((state[i - 1] ^ (state[i - 1] >> 30)) &* 1_566_083_941)) &- UInt32(i)
            i += 1
            if i >= 624 { (state[0], i) = (state[623], 1) }
        }
        state[0] = 0x8000_0000
    }

    mutating func next() -> UInt32 {
        if index >= 624 { twist() }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9d2c_5680
        y ^= (y << 15) & 0xefc6_0000
        return y ^ (y >> 18)
    }

    private mutating func twist() {
        for i in 0..<624 {
            let y = (state[i] & 0x8000_0000) | (state[(i + 1) % 624] & 0x7fff_ffff)
            state[i] = state[(i + 397) % 624] ^ (y >> 1) ^ (y & 1 == 0 ? 0 : 0x9908_b0df)
        }
        index = 0
    }

    /// `random.randint(0, upper)`: rejection sampling on `upper + 1`'s bit length.
    mutating func randint(upTo upper: Int) -> Int {
        let n = UInt32(upper + 1)
        let bits = 32 - n.leadingZeroBitCount
        while true {
            let r = next() >> UInt32(32 - bits)
            if r < n { return Int(r) }
        }
    }
}
