import Foundation
import LatentflowTensor

/// madebyollin's TAESD, as ComfyUI builds it (`comfy/taesd/taesd.py`): plain `nn.Sequential`s of
/// 3x3 convolutions and residual `Block`s, keyed by their position (`0.weight`, `1.conv.0.weight`).
/// The released files are 64 wide; the width is read off the weights, so smaller stand-ins run
/// through the same code.

/// `Block`: conv, ReLU, conv, ReLU, conv, plus the input (or its bias-free 1x1 projection), then ReLU.
struct TAESDBlock: Sendable {
    let conv0: Conv2D, conv2: Conv2D, conv4: Conv2D
    let skip: Conv2D?

    init(_ scope: WeightScope, in inChannels: Int, out outChannels: Int) {
        conv0 = Conv2D(scope["conv.0"], in: inChannels, out: outChannels, kernel: 3)
        conv2 = Conv2D(scope["conv.2"], in: outChannels, out: outChannels, kernel: 3)
        conv4 = Conv2D(scope["conv.4"], in: outChannels, out: outChannels, kernel: 3)
        skip =
            inChannels == outChannels
            ? nil : Conv2D(scope["skip"], in: inChannels, out: outChannels, kernel: 1, bias: false)
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        let h = try conv4(conv2(conv0(x).relu()).relu())
        return try h.adding(skip.map { try $0(x) } ?? x).relu()
    }
}

/// `Encoder`: images in 0…1 to raw TAESD latents at 1/8 size. Three strided, bias-free
/// convolutions each halve the image, each followed by three Blocks.
struct TAESDEncoder: Sendable {
    let convIn: Conv2D
    let first: TAESDBlock
    /// (downsampling conv, its three Blocks) at sequential indices 2, 6, 10.
    let stages: [(down: Conv2D, blocks: [TAESDBlock])]
    let convOut: Conv2D

    init(_ scope: WeightScope, width: Int, latentChannels: Int) {
        convIn = Conv2D(scope["0"], in: 3, out: width, kernel: 3)
        first = TAESDBlock(scope["1"], in: width, out: width)
        stages = [2, 6, 10].map { index in
            (
                down: Conv2D(scope["\(index)"], in: width, out: width, kernel: 3, stride: 2, bias: false),
                blocks: (1...3).map { TAESDBlock(scope["\(index + $0)"], in: width, out: width) }
            )
        }
        convOut = Conv2D(scope["14"], in: width, out: latentChannels, kernel: 3)
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        var h = try first(convIn(x))
        for stage in stages {
            h = try stage.down(h)
            for block in stage.blocks { h = try block(h) }
        }
        return try convOut(h)
    }
}

/// `Decoder`: raw latents to images in (about) 0…1 at 8x size. `Clamp` (`tanh(x / 3) * 3`)
/// first, then three times three Blocks, a nearest 2x upsample and a bias-free conv.
struct TAESDDecoder: Sendable {
    let convIn: Conv2D
    /// (three Blocks, the conv after the upsample) at sequential indices 3…7, 8…12, 13…17.
    let stages: [(blocks: [TAESDBlock], up: Conv2D)]
    let last: TAESDBlock
    let convOut: Conv2D

    init(_ scope: WeightScope, width: Int, latentChannels: Int) {
        convIn = Conv2D(scope["1"], in: latentChannels, out: width, kernel: 3)
        stages = [3, 8, 13].map { index in
            (
                blocks: (0..<3).map { TAESDBlock(scope["\(index + $0)"], in: width, out: width) },
                up: Conv2D(scope["\(index + 4)"], in: width, out: width, kernel: 3, bias: false)
            )
        }
        last = TAESDBlock(scope["18"], in: width, out: width)
        convOut = Conv2D(scope["19"], in: width, out: 3, kernel: 3)
    }

    func callAsFunction(_ z: Tensor) throws -> Tensor {
        var h = try convIn(z.mapScalars { tanh($0 / 3) * 3 }).relu()
        for stage in stages {
            for block in stage.blocks { h = try block(h) }
            h = try stage.up(h.resized(height: h.dim(2) * 2, width: h.dim(3) * 2, mode: .nearest))
        }
        return try convOut(last(h))
    }
}
