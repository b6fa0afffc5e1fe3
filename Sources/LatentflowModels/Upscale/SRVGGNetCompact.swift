import LatentflowTensor

/// Real-ESRGAN's compact network (`realesr-general-x4v3`, `realesr-animevideov3`): a 3x3 conv
/// and PReLU, `convs` more of each at the input's resolution, a last conv to `out·scale²`
/// channels, a pixel shuffle, and the nearest-upsampled input added on.
///
/// Matches: spandrel `architectures/Compact/__arch/SRVGG.py` `SRVGGNetCompact` (act_type prelu,
/// the only one spandrel's detection admits: it requires `body.1.weight`).
public struct SRVGGNetCompact: UpscaleNetwork {
    public struct Configuration: Sendable, Equatable {
        public var inChannels, outChannels, features, convs, scale: Int
    }

    public let configuration: Configuration
    let convs: [Conv2D]
    let activations: [Tensor]

    public var architecture: String { "RealESRGAN Compact" }
    public var scale: Int { configuration.scale }
    public var inputChannels: Int { configuration.inChannels }
    public var outputChannels: Int { configuration.outChannels }

    public init(_ scope: WeightScope, configuration c: Configuration) {
        configuration = c
        var convs = [Conv2D(scope["body.0"], in: c.inChannels, out: c.features, kernel: 3)]
        var activations = [scope.tensor("body.1.weight", shape: [c.features])]
        for i in 0..<c.convs {
            convs.append(Conv2D(scope["body.\(2 * i + 2)"], in: c.features, out: c.features, kernel: 3))
            activations.append(scope.tensor("body.\(2 * i + 3).weight", shape: [c.features]))
        }
        convs.append(
            Conv2D(scope["body.\(2 * c.convs + 2)"], in: c.features, out: c.outChannels * c.scale * c.scale, kernel: 3))
        (self.convs, self.activations) = (convs, activations)
    }

    public func callAsFunction(_ image: Tensor) throws -> Tensor {
        var x = image
        for (conv, slope) in zip(convs, activations) { x = try conv(x).prelu(weight: slope) }
        guard let last = convs.last else { return image }
        let out = try last(x).pixelShuffled(scale)
        return try out.adding(try image.upsampledNearest(scale))
    }

    public var activationFloatsPerInputPixel: Int {
        let c = configuration
        return max(2 * c.features, 3 * c.outChannels * c.scale * c.scale) + c.inChannels
    }
}
