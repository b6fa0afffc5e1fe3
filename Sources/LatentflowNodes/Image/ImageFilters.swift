import Foundation
import LatentflowGraph
import LatentflowTensor

/// A Gaussian blur of each channel.
///
/// Matches: ComfyUI `comfy_extras/nodes_post_processing.py` `Blur.execute`: a
/// `(2r+1)²` kernel from `gaussian_kernel`, convolved over the image reflect-padded by r (float32).
public struct ImageBlur: Node {
    static let image = Input<ImageBatch>("image")
    static let radius = Input.int("blur_radius", default: 1, min: 1, max: 31, step: 1)
    static let sigma = Input.float("sigma", default: 1, min: 0.1, max: 10, step: 0.1)

    public static let schema = NodeSchema(
        "ImageBlur", category: "image/postprocessing", inputs: [image, radius, sigma],
        outputs: outputs(Output<ImageBatch>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let image = try inputs[Self.image], radius = try inputs[Self.radius]
        let kernel = GaussianKernel(radius: radius, sigma: try inputs[Self.sigma])
        return NodeOutputs(ImageBatch(try kernel.convolve(image, node: "ImageBlur", input: "blur_radius")))
    }
}

/// An unsharp mask: the image minus a scaled Gaussian blur of itself, clamped to 0...1.
///
/// Matches: ComfyUI `nodes_post_processing.py` `Sharpen.execute`: the Gaussian kernel times
/// `-(alpha·10)`, its centre tap raised so that the taps sum to 1, reflect padding (float32).
public struct ImageSharpen: Node {
    static let image = Input<ImageBatch>("image")
    static let radius = Input.int("sharpen_radius", default: 1, min: 1, max: 31, step: 1)
    static let sigma = Input.float("sigma", default: 1, min: 0.1, max: 10, step: 0.01)
    static let alpha = Input.float("alpha", default: 1, min: 0, max: 5, step: 0.01)

    public static let schema = NodeSchema(
        "ImageSharpen", category: "image/postprocessing", inputs: [image, radius, sigma, alpha],
        outputs: outputs(Output<ImageBatch>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let image = try inputs[Self.image], radius = try inputs[Self.radius]
        var kernel = GaussianKernel(radius: radius, sigma: try inputs[Self.sigma])
        // torch multiplies by the Python float -(alpha·10) rounded to float32, then sums the taps.
        let scale = Float(-(try inputs[Self.alpha] * 10))
        kernel.taps = kernel.taps.map { $0 * scale }
        let centre = radius * kernel.size + radius
        kernel.taps[centre] = kernel.taps[centre] - kernel.taps.reduce(0, +) + 1
        let sharpened = try kernel.convolve(image, node: "ImageSharpen", input: "sharpen_radius")
        return NodeOutputs(ImageBatch(sharpened.clamped(min: 0, max: 1)))
    }
}

/// ComfyUI's `gaussian_kernel(2r+1, sigma)`: `exp(−d²/2σ²)` over a `linspace(−1, 1)` grid,
/// normalised to sum 1, in float32.
struct GaussianKernel {
    let radius: Int
    var taps: [Float]
    var size: Int { 2 * radius + 1 }

    init(radius: Int, sigma: Double) {
        self.radius = radius
        let size = 2 * radius + 1
        let grid = Self.linspace(count: size)
        let denominator = Float(2 * sigma * sigma)
        var taps = [Float](repeating: 0, count: size * size)
        for i in 0..<size {
            for j in 0..<size {
                let d = (grid[i] * grid[i] + grid[j] * grid[j]).squareRoot()
                taps[i * size + j] = exp(-(d * d) / denominator)
            }
        }
        let total = taps.reduce(0, +)
        self.taps = taps.map { $0 / total }
    }

    /// `torch.linspace(−1, 1, count)` in float32: the first half counts up from −1, the second
    /// down from 1, as torch's CPU kernel does.
    static func linspace(count: Int) -> [Float] {
        guard count > 1 else { return [-1] }
        let step = Float(2) / Float(count - 1)
        return (0..<count).map { i in i < count / 2 ? -1 + step * Float(i) : 1 - step * Float(count - 1 - i) }
    }

    /// The kernel over each channel of `[B, H, W, C]`, reflect-padded by `radius` (edge pixels are
    /// not repeated: index −1 reads 1), keeping the input's size.
    func convolve(_ image: ImageBatch, node: String, input: String) throws -> Tensor {
        let (n, h, w, c) = (image.count, image.height, image.width, image.channels)
        // torch's reflect padding needs the pad to be smaller than the side it mirrors.
        guard radius < h, radius < w else {
            throw NodeError(
                "\(node): input '\(input)' (\(radius)) must be smaller than the image's height and width (\(h)x\(w))")
        }
        let size = self.size
        func reflect(_ index: Int, _ length: Int) -> Int {
            index < 0 ? -index : index >= length ? 2 * (length - 1) - index : index
        }
        return image.pixels.withUnsafeBufferPointer { p in
            Tensor(shape: image.pixels.shape) { out in
                for b in 0..<n {
                    let base = b * h * w * c
                    for y in 0..<h {
                        for x in 0..<w {
                            for channel in 0..<c {
                                var sum: Float = 0
                                for i in 0..<size {
                                    let row = base + reflect(y + i - radius, h) * w * c
                                    for j in 0..<size {
                                        sum += taps[i * size + j] * p[row + reflect(x + j - radius, w) * c + channel]
                                    }
                                }
                                out[base + (y * w + x) * c + channel] = sum
                            }
                        }
                    }
                }
            }
        }
    }
}
