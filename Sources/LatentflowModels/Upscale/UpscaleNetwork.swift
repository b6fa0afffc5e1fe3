import LatentflowTensor

/// An image-to-image super-resolution network: `[n, inputChannels, h, w]` in 0...1 to
/// `[n, outputChannels, h·scale, w·scale]` (spandrel's `ImageModelDescriptor`).
public protocol UpscaleNetwork: Sendable {
    /// spandrel's architecture name ("ESRGAN", "RealESRGAN Compact").
    var architecture: String { get }
    var scale: Int { get }
    var inputChannels: Int { get }
    var outputChannels: Int { get }
    /// Peak float32 activations of one forward per input pixel, for sizing tiles.
    var activationFloatsPerInputPixel: Int { get }
    /// spandrel's `SizeRequirements` (minimum side, multiple of): inputs are padded to meet it.
    var sizeRequirement: (minimum: Int, multipleOf: Int) { get }
    /// The network itself, unclamped (spandrel's `descriptor.model(x)`).
    func callAsFunction(_ image: Tensor) throws -> Tensor
}

extension UpscaleNetwork {
    public var sizeRequirement: (minimum: Int, multipleOf: Int) { (0, 1) }

    /// The call ComfyUI makes for each tile, spandrel's `ImageModelDescriptor.__call__`: the input
    /// padded on the bottom and right to the size requirement (reflect, then replicate), the
    /// network, the result clamped to 0...1 and the padding cropped off.
    ///
    /// Matches: spandrel `__helpers/model_descriptor.py` `ImageModelDescriptor.__call__` and
    /// `__helpers/size_req.py` `SizeRequirements.get_padding`, `pad_tensor`.
    public func upscale(_ image: Tensor) throws -> Tensor {
        let (h, w) = (image.dim(2), image.dim(3))
        let (minimum, multiple) = sizeRequirement
        func padded(_ size: Int) -> Int {
            let m = max(minimum, size)
            return m % multiple == 0 ? m : (m / multiple + 1) * multiple
        }
        let (ph, pw) = (padded(h) - h, padded(w) - w)
        let input = ph > 0 || pw > 0 ? try image.reflectPadded(bottom: ph, right: pw) : image
        var out = try self(input).clamped(min: 0, max: 1)
        if ph > 0 || pw > 0 {
            out = try out.slice(axis: 2, start: 0, length: h * scale).slice(axis: 3, start: 0, length: w * scale)
        }
        return out
    }
}
