import LatentflowTensor

/// ESRGAN's RRDBNet in the original (old-arch) layout: a first conv, `blocks` residual-in-residual
/// dense blocks and a trunk conv around a shortcut, `log2(scale)` nearest ×2 upsamples each
/// followed by a conv and LeakyReLU(0.2), an HR conv with LeakyReLU and a last conv. Real-ESRGAN's
/// x2 and x1 models first pixel-unshuffle the (reflect-padded) image by 2 or 4 and crop the result.
///
/// Matches: spandrel `architectures/ESRGAN/__arch/RRDB.py` `RRDBNet` (mode CNA, no norm,
/// upsampler `upconv`) and `__arch_helpers/block.py` `RRDB`, `ResidualDenseBlock_5C`.
public struct RRDBNet: UpscaleNetwork {
    public struct Configuration: Sendable, Equatable {
        public var inChannels, outChannels, features, blocks, growth: Int
        /// The network's own factor (before the unshuffle's division).
        public var networkScale: Int
        public var plus: Bool
        /// 2 or 4 when the input is pixel-unshuffled first (Real-ESRGAN x2plus, x1), else nil.
        public var shuffleFactor: Int?

        public init(
            inChannels: Int = 3, outChannels: Int = 3, features: Int = 64, blocks: Int = 23, growth: Int = 32,
            networkScale: Int = 4, plus: Bool = false, shuffleFactor: Int? = nil
        ) {
            (self.inChannels, self.outChannels, self.features, self.blocks) = (
                inChannels, outChannels, features, blocks
            )
            (self.growth, self.networkScale, self.plus, self.shuffleFactor) = (
                growth, networkScale, plus, shuffleFactor
            )
        }
    }

    public let configuration: Configuration
    let first: Conv2D
    let trunk: [RRDB]
    let trunkConv: Conv2D
    let upconvs: [Conv2D]
    let hrConv: Conv2D
    let lastConv: Conv2D

    public var architecture: String { configuration.plus ? "ESRGAN+" : "ESRGAN" }
    public var scale: Int { configuration.networkScale / (configuration.shuffleFactor ?? 1) }
    public var inputChannels: Int { configuration.inChannels / square(configuration.shuffleFactor ?? 1) }
    public var outputChannels: Int { configuration.outChannels }
    public var sizeRequirement: (minimum: Int, multipleOf: Int) {
        configuration.shuffleFactor == nil ? (2, 1) : (4, 4)
    }

    public init(_ scope: WeightScope, configuration c: Configuration) {
        configuration = c
        first = Conv2D(scope["model.0"], in: c.inChannels, out: c.features, kernel: 3)
        trunk = (0..<c.blocks).map {
            RRDB(scope["model.1.sub.\($0)"], features: c.features, growth: c.growth, plus: c.plus)
        }
        trunkConv = Conv2D(scope["model.1.sub.\(c.blocks)"], in: c.features, out: c.features, kernel: 3)
        let ups = log2(c.networkScale)
        upconvs = (0..<ups).map { Conv2D(scope["model.\(3 * $0 + 3)"], in: c.features, out: c.features, kernel: 3) }
        hrConv = Conv2D(scope["model.\(3 * ups + 2)"], in: c.features, out: c.features, kernel: 3)
        lastConv = Conv2D(scope["model.\(3 * ups + 4)"], in: c.features, out: c.outChannels, kernel: 3)
    }

    public func callAsFunction(_ image: Tensor) throws -> Tensor {
        guard let factor = configuration.shuffleFactor else { return try network(image) }
        let (h, w) = (image.dim(2), image.dim(3))
        let padded = try image.reflectPadded(
            bottom: (factor - h % factor) % factor, right: (factor - w % factor) % factor)
        let out = try network(try padded.pixelUnshuffled(factor))  // [n, c, (h+pad)·s, (w+pad)·s]
        return try out.slice(axis: 2, start: 0, length: h * scale).slice(axis: 3, start: 0, length: w * scale)
    }

    func network(_ x: Tensor) throws -> Tensor {
        let features = try first(x)
        var trunkOut = features
        for block in trunk { trunkOut = try block(trunkOut) }
        var y = try features.adding(try trunkConv(trunkOut))
        for upconv in upconvs { y = try upconv(try y.upsampledNearest(2)).leakyReLU(slope: 0.2) }
        return try lastConv(try hrConv(y).leakyReLU(slope: 0.2))
    }

    /// Peak activation floats per input pixel of one forward (the HR convolutions' input and
    /// output at full scale, or the dense block's concatenation and its inputs at input scale).
    /// Dense multiply-adds per input pixel (2 FLOPs each), as PyTorch's FLOP counter counts them.
    public var multiplyAddsPerInputPixel: Int {
        let c = configuration
        let (f, g) = (c.features, c.growth)
        let dense = (0..<4).reduce(0) { $0 + (f + $1 * g) * g } + (f + 4 * g) * f
        var total = 9 * (c.inChannels * f + c.blocks * 3 * dense + f * f)
        var area = 1
        for _ in 0..<log2(c.networkScale) {
            area *= 4
            total += 9 * f * f * area
        }
        total += 9 * (f * f + f * c.outChannels) * area
        return total / ((c.shuffleFactor ?? 1) * (c.shuffleFactor ?? 1))
    }

    public var activationFloatsPerInputPixel: Int {
        let c = configuration
        let perNetworkPixel = max(3 * (c.features + 4 * c.growth), 3 * c.features * square(c.networkScale))
        return perNetworkPixel / square(c.shuffleFactor ?? 1) + 2 * c.inChannels
    }
}

/// Residual in residual dense block: three dense blocks, scaled by 0.2 onto the input.
struct RRDB: Sendable {
    let blocks: [ResidualDenseBlock]

    init(_ scope: WeightScope, features: Int, growth: Int, plus: Bool) {
        blocks = (1...3).map { ResidualDenseBlock(scope["RDB\($0)"], features: features, growth: growth, plus: plus) }
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        var out = x
        for block in blocks { out = try block(out) }
        return try out.scaled(by: 0.2).adding(x)
    }
}

/// Five densely connected 3x3 convs (`ResidualDenseBlock_5C`), LeakyReLU(0.2) after the first
/// four; ESRGAN+ adds a 1x1 conv of the input to the second and the second to the fourth.
struct ResidualDenseBlock: Sendable {
    let convs: [Conv2D]
    let conv1x1: Conv2D?

    init(_ scope: WeightScope, features: Int, growth: Int, plus: Bool) {
        convs = (0..<5).map { j in
            Conv2D(
                scope["conv\(j + 1).0"], in: features + j * growth, out: j == 4 ? features : growth, kernel: 3)
        }
        conv1x1 = plus ? Conv2D(scope["conv1x1"], in: features, out: growth, kernel: 1, bias: false) : nil
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        var inputs = [x]
        for j in 0..<4 {
            var next = try convs[j](try Tensor.concat(inputs, axis: 1)).leakyReLU(slope: 0.2)
            if let conv1x1, j == 1 { next = try next.adding(try conv1x1(x)) }
            if conv1x1 != nil, j == 3 { next = try next.adding(inputs[2]) }
            inputs.append(next)
        }
        return try convs[4](try Tensor.concat(inputs, axis: 1)).scaled(by: 0.2).adding(x)
    }
}

private func square(_ n: Int) -> Int { n * n }

/// `int(math.log(n, 2))` for the powers of two RRDBNet's scales are.
func log2(_ n: Int) -> Int {
    var (n, result) = (n, 0)
    while n > 1 {
        n /= 2
        result += 1
    }
    return result
}
