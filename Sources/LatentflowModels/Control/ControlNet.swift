import LatentflowTensor

/// An SD-family ControlNet (LDM `cldm.ControlNet`): a copy of the UNet's encoder (input blocks and
/// middle block) that also sees a hint image, with a 1x1 "zero convolution" after every input
/// block and after the middle block. Its outputs are residuals for the UNet's skip connections
/// and middle block. Weights in the LDM layout without the `control_model.` prefix.
///
/// Matches: ComfyUI `comfy/cldm/cldm.py` `ControlNet.forward`.
public struct ControlNet: Sendable {
    public let config: UNetConfiguration
    /// Channels of the hint image (3 for RGB hints).
    public let hintChannels: Int
    let timeEmbed: (Linear, Linear)
    let hintBlock: ControlNetHintBlock
    let convIn: Conv2D
    let inputBlocks: [UNetInputBlock]
    /// One per input block, `conv_in` included.
    let zeroConvs: [Conv2D]
    let middle: UNetMiddleBlock
    let middleOut: Conv2D

    /// - Parameter hintWidths: the hint block's convolution widths (nil: ComfyUI's, ending at the
    ///   UNet's width).
    public init(_ scope: WeightScope, config: UNetConfiguration, hintChannels: Int, hintWidths: [Int]? = nil) {
        (self.config, self.hintChannels) = (config, hintChannels)
        let mc = config.modelChannels, embed = config.timeEmbedDim
        timeEmbed = (
            Linear(scope["time_embed.0"], in: mc, out: embed), Linear(scope["time_embed.2"], in: embed, out: embed)
        )
        hintBlock = ControlNetHintBlock(
            scope["input_hint_block"], hintChannels: hintChannels,
            widths: hintWidths ?? ControlNetHintBlock.standardWidths + [mc])
        convIn = Conv2D(scope["input_blocks.0.0"], in: config.inChannels, out: mc, kernel: 3)
        let encoder = makeUNetInputBlocks(scope, config: config) {
            SpatialTransformer($0, channels: $1, config: config, level: $2)
        }
        inputBlocks = encoder.blocks
        let (skipChannels, channels) = (encoder.skipChannels, encoder.channels)
        zeroConvs = skipChannels.enumerated().map { index, width in
            Conv2D(scope["zero_convs.\(index).0"], in: width, out: width, kernel: 1)
        }
        middle = UNetMiddleBlock(
            first: ResBlock(scope["middle_block.0"], in: channels, out: channels, embedDim: embed),
            attention: SpatialTransformer(scope["middle_block.1"], channels: channels, config: config),
            second: ResBlock(scope["middle_block.2"], in: channels, out: channels, embedDim: embed))
        middleOut = Conv2D(scope["middle_block_out.0"], in: channels, out: channels, kernel: 1)
    }

    /// The residuals (unscaled) for latents `x` `[N, C, H, W]` (already input-scaled, as the UNet
    /// gets them) at `timesteps`, with text `context` `[N, T, contextDim]` and `hint`
    /// `[N, hintChannels, 8·H, 8·W]` in 0...1.
    public func callAsFunction(_ x: Tensor, hint: Tensor, timesteps: [Float], context: Tensor) throws
        -> ControlResiduals
    {
        let features = timestepEmbedding(timesteps, dim: config.modelChannels)
        let embedding = try timeEmbed.1(timeEmbed.0(features).silu()).silu()  // SiLU'd once for every ResBlock
        let guidedHint = try hintBlock(hint)  // [N, mc, H, W]
        guard x.rank == 4, guidedHint.shape[2...] == x.shape[2...] else {
            throw TensorError.shapeMismatch(
                "ControlNet hint \(hint.shape) does not reduce to the latent's size \(x.shape) (it must be 8x the latent)"
            )
        }
        var h = try convIn(x).adding(guidedHint)
        var outputs: [Tensor?] = [try zeroConvs[0](h)]
        for (block, zeroConv) in zip(inputBlocks, zeroConvs.dropFirst()) {
            h = try block(h, embedding: embedding, context: context)
            outputs.append(try zeroConv(h))
        }
        h = try middle(h, embedding: embedding, context: context)
        return ControlResiduals(middle: [try middleOut(h)], output: outputs)
    }
}

/// The hint encoder: 3x3 convolutions with SiLU between them, every second one from the second
/// stride 2, from the hint image to the UNet's width at latent resolution (`input_hint_block`:
/// eight convolutions to 16, 16, 32, 32, 96, 96, 256 and the UNet's channels in every published
/// ControlNet; the widths are read from the file, so smaller test models load too).
struct ControlNetHintBlock: Sendable {
    /// ComfyUI's `cldm.ControlNet` widths before the last convolution.
    static let standardWidths = [16, 16, 32, 32, 96, 96, 256]
    let convs: [Conv2D]

    /// - Parameter widths: each convolution's output channels, the last one the UNet's.
    init(_ scope: WeightScope, hintChannels: Int, widths: [Int]) {
        let channels = [hintChannels] + widths
        convs = widths.indices.map { i in
            let stride = i > 0 && i < widths.count - 1 && i % 2 == 0 ? 2 : 1
            return Conv2D(
                scope["\(2 * i)"], in: channels[i], out: channels[i + 1], kernel: 3, stride: stride, padding: 1)
        }
    }

    /// The convolution widths of the hint block under `scope` (`input_hint_block.0`, `.2`, …).
    static func widths(_ scope: WeightScope) throws -> [Int] {
        var widths: [Int] = []
        while let shape = try scope.checkedShape("\(2 * widths.count).weight", rank: 4) { widths.append(shape[0]) }
        return widths
    }

    func callAsFunction(_ hint: Tensor) throws -> Tensor {
        var h = hint
        for (i, conv) in convs.enumerated() {
            h = try conv(h)
            if i < convs.count - 1 { h = h.silu() }
        }
        return h
    }
}
