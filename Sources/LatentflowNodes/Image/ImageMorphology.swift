import LatentflowGraph
import LatentflowTensor

/// Grey-scale morphology of each channel with a flat square structuring element.
///
/// Matches: ComfyUI `comfy_extras/nodes_morphology.py` `Morphology.execute` over kornia 0.8's
/// `kornia.morphology` with `torch.ones(k, k)`: border "geodesic" (outside pixels are ±1e4, so
/// they never win), the window of pixel y spanning `y − k/2 ... y + k − k/2 − 1`. With a flat
/// kernel the max (min) over the square is the max (min) of the row maxima (minima), so it is
/// computed in two passes; the results are exact, the differences float32.
public struct Morphology: Node {
    static let operations = ["erode", "dilate", "open", "close", "gradient", "bottom_hat", "top_hat"]
    static let image = Input<ImageBatch>("image")
    static let operation = Input.combo("operation", options: operations)
    static let kernelSize = Input.int("kernel_size", default: 3, min: 3, max: 999, step: 1)

    public static let schema = NodeSchema(
        "Morphology", displayName: "ImageMorphology", category: "image/postprocessing",
        inputs: [image, operation, kernelSize], outputs: outputs(Output<ImageBatch>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let image = try inputs[Self.image].pixels, operation = try inputs[Self.operation]
        let size = try inputs[Self.kernelSize]
        guard size >= 1 else { throw NodeError("Morphology: input 'kernel_size' must be at least 1, got \(size)") }
        let erode = { (x: Tensor) in Self.filter(x, size: size, dilate: false) }
        let dilate = { (x: Tensor) in Self.filter(x, size: size, dilate: true) }
        let output: Tensor
        switch operation {
        case "erode": output = erode(image)
        case "dilate": output = dilate(image)
        case "open": output = dilate(erode(image))
        case "close": output = erode(dilate(image))
        case "gradient": output = try dilate(image).subtracting(erode(image))
        case "top_hat": output = try image.subtracting(dilate(erode(image)))
        case "bottom_hat": output = try erode(dilate(image)).subtracting(image)
        default:
            throw NodeError(
                "Morphology: input 'operation' is '\(operation)'; expected one of \(Self.operations.joined(separator: ", "))"
            )
        }
        return NodeOutputs(ImageBatch(output))
    }

    /// Dilation (max) or erosion (min) of `[B, H, W, C]` over a `size`² window.
    static func filter(_ image: Tensor, size: Int, dilate: Bool) -> Tensor {
        let (n, h, w, c) = (image.shape[0], image.shape[1], image.shape[2], image.shape[3])
        // kornia's geodesic border: a window that leaves the image also sees ∓max_val.
        let border: Float = dilate ? -1e4 : 1e4
        let pick: (Float, Float) -> Float = dilate ? { max($0, $1) } : { min($0, $1) }
        let before = size / 2, after = size - size / 2 - 1
        /// One pass along an axis of `length` positions `stride` apart.
        func pass(
            _ source: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>,
            length: Int, stride: Int, lines: [Int]
        ) {
            for start in lines {
                for position in 0..<length {
                    let lower = position - before, upper = position + after
                    var value = source[start + max(lower, 0) * stride]
                    for k in max(lower, 0)...min(upper, length - 1) { value = pick(value, source[start + k * stride]) }
                    if lower < 0 || upper >= length { value = pick(value, border) }
                    out[start + position * stride] = value
                }
            }
        }
        // Starts of rows (along x) and of columns (along y) of every image and channel.
        var rows: [Int] = [], columns: [Int] = []
        for b in 0..<n {
            for channel in 0..<c {
                for y in 0..<h { rows.append(((b * h + y) * w) * c + channel) }
                for x in 0..<w { columns.append((b * h * w + x) * c + channel) }
            }
        }
        let horizontal = image.withUnsafeBufferPointer { p in
            Tensor(shape: image.shape) { out in pass(p, into: out, length: w, stride: c, lines: rows) }
        }
        return horizontal.withUnsafeBufferPointer { p in
            Tensor(shape: image.shape) { out in pass(p, into: out, length: h, stride: w * c, lines: columns) }
        }
    }
}

/// The Y, Cb and Cr planes of an RGB image, each repeated over three channels.
///
/// Matches: ComfyUI `nodes_morphology.py` `ImageRGBToYUV.execute` over kornia's `rgb_to_ycbcr`
/// (`y = 0.299r + 0.587g + 0.114b`, `cb = (b − y)·0.564 + 0.5`, `cr = (r − y)·0.713 + 0.5`, float32).
public struct ImageRGBToYUV: Node {
    static let image = Input<ImageBatch>("image")

    public static let schema = NodeSchema(
        "ImageRGBToYUV", category: "image/batch", inputs: [image],
        outputs: outputs(Output<ImageBatch>("Y"), Output<ImageBatch>("U"), Output<ImageBatch>("V")))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let image = try inputs[Self.image]
        guard image.channels == 3 else {
            throw NodeError("ImageRGBToYUV: input 'image' must have 3 channels (RGB), got \(image.channels)")
        }
        let planes = image.pixels.withUnsafeBufferPointer { p in
            (0..<3).map { plane in
                Tensor(shape: image.pixels.shape) { out in
                    for pixel in 0..<(out.count / 3) {
                        let (r, g, b) = (p[pixel * 3], p[pixel * 3 + 1], p[pixel * 3 + 2])
                        let y = Float(0.299) * r + Float(0.587) * g + Float(0.114) * b
                        let value =
                            plane == 0 ? y : plane == 1 ? (b - y) * Float(0.564) + 0.5 : (r - y) * Float(0.713) + 0.5
                        for channel in 0..<3 { out[pixel * 3 + channel] = value }
                    }
                }
            }
        }
        return NodeOutputs(ImageBatch(planes[0]), ImageBatch(planes[1]), ImageBatch(planes[2]))
    }
}

/// An RGB image from Y, Cb and Cr images (each averaged over its channels), clamped to 0...1.
///
/// Matches: ComfyUI `nodes_morphology.py` `ImageYUVToRGB.execute` over kornia's `ycbcr_to_rgb`
/// (`r = y + 1.403·cr'`, `g = y − 0.714·cr' − 0.344·cb'`, `b = y + 1.773·cb'`, float32).
public struct ImageYUVToRGB: Node {
    static let y = Input<ImageBatch>("Y")
    static let u = Input<ImageBatch>("U")
    static let v = Input<ImageBatch>("V")

    public static let schema = NodeSchema(
        "ImageYUVToRGB", category: "image/batch", inputs: [y, u, v], outputs: outputs(Output<ImageBatch>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let planes = [try inputs[Self.y], try inputs[Self.u], try inputs[Self.v]]
        let (n, h, w) = (planes[0].count, planes[0].height, planes[0].width)
        for (name, plane) in zip(["U", "V"], planes[1...]) where (plane.count, plane.height, plane.width) != (n, h, w) {
            throw NodeError(
                "ImageYUVToRGB: input '\(name)' is \(plane.count)x\(plane.height)x\(plane.width); "
                    + "it must match Y's \(n)x\(h)x\(w) (batch x height x width)")
        }
        // torch.mean over the channels: their float32 sum divided by the count.
        let means = planes.map { plane in
            plane.pixels.withUnsafeBufferPointer { p in
                (0..<(n * h * w)).map { pixel in
                    (0..<plane.channels).reduce(Float(0)) { $0 + p[pixel * plane.channels + $1] }
                        / Float(plane.channels)
                }
            }
        }
        let rgb = Tensor(shape: [n, h, w, 3]) { out in
            for pixel in 0..<(n * h * w) {
                let y = means[0][pixel], cb = means[1][pixel] - 0.5, cr = means[2][pixel] - 0.5
                let values = [
                    y + Float(1.403) * cr, y - Float(0.714) * cr - Float(0.344) * cb, y + Float(1.773) * cb,
                ]
                for channel in 0..<3 { out[pixel * 3 + channel] = min(max(values[channel], 0), 1) }
            }
        }
        return NodeOutputs(ImageBatch(rgb))
    }
}
