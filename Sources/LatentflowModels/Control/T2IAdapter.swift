import LatentflowTensor

/// A T2I-Adapter for SD1.x UNets: pixel-unshuffles the hint by 8, then four levels of small
/// residual blocks (each level after the first halves the size) whose outputs are added to the
/// UNet's features after the last ResBlock of each level. `full` is TencentARC's `Adapter`
/// (weights `conv_in`, `body.N.block1/2`), `light` its `Adapter_light` (`body.N.in_conv`,
/// `body.N.body.M.block1/2`, `body.N.out_conv`). LDM key layout, diffusers names already mapped.
///
/// Matches: ComfyUI `comfy/t2i_adapter/adapter.py` (`Adapter`, `ResnetBlock`, `Adapter_light`,
/// `extractor`, `ResnetBlock_light`, `Downsample`), SD1.x (non-XL) variants.
public struct T2IAdapter: Sendable {
    public enum Kind: String, Sendable { case full, light }
    public let kind: Kind
    /// Channels of the hint image the adapter reads (input channels over 64): 1 means greyscale.
    public let hintChannels: Int
    let unshuffle = 8
    let stem: Conv2D?
    let levels: [[Stage]]

    enum Stage: Sendable {
        /// 2x2 average pooling (`Downsample(use_conv=False)`) or a stride-2 convolution.
        case downsample(Conv2D?)
        case conv(Conv2D)
        case resnet(block1: Conv2D, block2: Conv2D, input: Conv2D?)
    }

    /// A full adapter of `channels` per level, `blocks` ResBlocks a level, `kernel`-sized second
    /// convolutions; `convDownsample` when the file has `down_opt.op` weights.
    public init(
        full scope: WeightScope, inChannels: Int, channels: [Int], blocks: Int, kernel: Int, convDownsample: Bool
    ) {
        kind = .full
        hintChannels = inChannels / 64
        stem = Conv2D(scope["conv_in"], in: inChannels, out: channels[0], kernel: 3)
        var levels: [[Stage]] = []
        for (i, width) in channels.enumerated() {
            var stages: [Stage] = []
            for j in 0..<blocks {
                let index = i * blocks + j
                let block = scope["body.\(index)"]
                let inWidth = j == 0 && i > 0 ? channels[i - 1] : width
                if j == 0 && i > 0 {
                    stages.append(
                        .downsample(
                            convDownsample
                                ? Conv2D(block["down_opt.op"], in: inWidth, out: inWidth, kernel: 3, stride: 2) : nil))
                }
                stages.append(
                    .resnet(
                        block1: Conv2D(block["block1"], in: width, out: width, kernel: 3),
                        block2: Conv2D(block["block2"], in: width, out: width, kernel: kernel),
                        input: inWidth != width
                            ? Conv2D(block["in_conv"], in: inWidth, out: width, kernel: kernel) : nil))
            }
            levels.append(stages)
        }
        self.levels = levels
    }

    /// A light adapter of `channels` per level with `blocks` residual blocks inside each level.
    public init(light scope: WeightScope, inChannels: Int, channels: [Int], blocks: Int) {
        kind = .light
        hintChannels = inChannels / 64
        stem = nil
        levels = channels.enumerated().map { i, width in
            let level = scope["body.\(i)"], inner = width / 4
            let inWidth = i == 0 ? inChannels : channels[i - 1]
            var stages: [Stage] = i == 0 ? [] : [.downsample(nil)]
            stages.append(.conv(Conv2D(level["in_conv"], in: inWidth, out: inner, kernel: 1)))
            for m in 0..<blocks {
                stages.append(
                    .resnet(
                        block1: Conv2D(level["body.\(m).block1"], in: inner, out: inner, kernel: 3),
                        block2: Conv2D(level["body.\(m).block2"], in: inner, out: inner, kernel: 3), input: nil))
            }
            stages.append(.conv(Conv2D(level["out_conv"], in: inner, out: width, kernel: 1)))
            return stages
        }
    }

    /// The features for `hint` `[N, hintChannels, H, W]` (H, W multiples of 8), one per level,
    /// as `input` residuals: two empty places, then the level's features, from the UNet's
    /// deepest input block backwards.
    public func callAsFunction(_ hint: Tensor) throws -> ControlResiduals {
        var x = try hint.pixelUnshuffled(unshuffle)
        if let stem { x = try stem(x) }
        var features: [Tensor?] = []
        for stages in levels {
            for stage in stages { x = try Self.run(stage, x) }
            features += [nil, nil, x]
        }
        return ControlResiduals(input: features.reversed())
    }

    static func run(_ stage: Stage, _ x: Tensor) throws -> Tensor {
        switch stage {
        case .downsample(let conv?): return try conv(x)
        case .downsample(nil): return try x.averagePooled2x2()
        case .conv(let conv): return try conv(x)
        case let .resnet(block1, block2, input):
            let x = try input.map { try $0(x) } ?? x
            return try block2(block1(x).relu()).adding(x)
        }
    }
}

extension Tensor {
    /// `nn.PixelUnshuffle(r)`: `[N, C, H, W] -> [N, C·r², H/r, W/r]`, channel `c·r² + i·r + j`
    /// holding the pixel at offset (i, j) of each r x r cell.
    func pixelUnshuffled(_ r: Int) throws -> Tensor {
        guard rank == 4, shape[2] % r == 0, shape[3] % r == 0 else {
            throw TensorError.shapeMismatch("pixel unshuffle by \(r) needs H and W multiples of \(r), got \(shape)")
        }
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let (oh, ow) = (h / r, w / r)
        return try reshaped([n, c, oh, r, ow, r]).permuted([0, 1, 3, 5, 2, 4]).reshaped([n, c * r * r, oh, ow])
    }

    /// `nn.AvgPool2d(2)` with ComfyUI's padding of one on odd sides (zeros counted).
    func averagePooled2x2() throws -> Tensor {
        guard rank == 4 else { throw TensorError.shapeMismatch("average pooling needs [N, C, H, W], got \(shape)") }
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let (ph, pw) = (h % 2, w % 2)
        let (oh, ow) = ((h + 2 * ph - 2) / 2 + 1, (w + 2 * pw - 2) / 2 + 1)
        return withUnsafeBufferPointer { source in
            Tensor(shape: [n, c, oh, ow]) { out in
                for plane in 0..<n * c {
                    let base = plane * h * w
                    for y in 0..<oh {
                        for x in 0..<ow {
                            var sum: Float = 0
                            for dy in 0..<2 {
                                let sy = 2 * y - ph + dy
                                guard sy >= 0, sy < h else { continue }
                                for dx in 0..<2 {
                                    let sx = 2 * x - pw + dx
                                    if sx >= 0, sx < w { sum += source[base + sy * w + sx] }
                                }
                            }
                            out[(plane * oh + y) * ow + x] = sum / 4
                        }
                    }
                }
            }
        }
    }
}
