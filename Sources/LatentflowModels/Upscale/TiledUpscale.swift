import LatentflowTensor

/// Runs an upscale network (each tile through `upscale`, spandrel's clamped descriptor call) over
/// an image batch in overlapping tiles and blends them with ComfyUI's feathered masks, one image
/// at a time.
///
/// Matches: ComfyUI `comfy/utils.py` `tiled_scale_multidim` (2-D, integer scale): an image that
/// fits one tile runs whole; otherwise tiles start every `tile - overlap` pixels up to
/// `size - overlap` (the last one shorter where the image ends), and each tile's output is weighted by a
/// mask that ramps `(t+1)/feather` over its `feather = overlap·scale` border pixels (skipped
/// along an axis the tile's output is not wider than), summed, and divided by the summed masks.
public enum TiledUpscale {
    /// The number of tiles per image, as `get_tiled_scale_steps` counts them (its progress total).
    public static func tileCount(height: Int, width: Int, tile: Int, overlap: Int) -> Int {
        positions(height, tile: tile, overlap: overlap).count * positions(width, tile: tile, overlap: overlap).count
    }

    /// Tile starts along one axis of `size` pixels.
    static func positions(_ size: Int, tile: Int, overlap: Int) -> [Int] {
        guard size > tile else { return [0] }
        return Swift.stride(from: 0, to: size - overlap, by: tile - overlap).map { max(0, min(size - overlap, $0)) }
    }

    /// `images` `[n, c, h, w]` → `[n, network.outputChannels, h·scale, w·scale]`; `onTile` is
    /// called after each tile (progress, cancellation).
    public static func run(
        _ images: Tensor, network: any UpscaleNetwork, tile: Int, overlap: Int, onTile: () throws -> Void = {}
    ) throws -> Tensor {
        guard images.rank == 4, tile > overlap, overlap >= 0 else {
            throw TensorError.invalidArgument("tiled upscale of \(images.shape) with tile \(tile), overlap \(overlap)")
        }
        let (n, h, w, s) = (images.dim(0), images.dim(2), images.dim(3), network.scale)
        var outputs: [Tensor] = []
        for b in 0..<n {
            let image = try images.slice(axis: 0, start: b, length: 1)
            if h <= tile && w <= tile {
                outputs.append(try checkedShape(network.upscale(image), network: network, h: h, w: w))
                try onTile()
                continue
            }
            var blend = FeatheredSum(channels: network.outputChannels, height: h * s, width: w * s)
            for y in positions(h, tile: tile, overlap: overlap) {
                for x in positions(w, tile: tile, overlap: overlap) {
                    let (th, tw) = (min(tile, h - y), min(tile, w - x))
                    let input = try image.slice(axis: 2, start: y, length: th).slice(axis: 3, start: x, length: tw)
                    let out = try checkedShape(network.upscale(input), network: network, h: th, w: tw)
                    blend.add(out, atY: y * s, x: x * s, feather: overlap * s)
                    try onTile()
                }
            }
            outputs.append(blend.result())
        }
        return try outputs.count == 1 ? outputs[0] : Tensor.concat(outputs, axis: 0)
    }

    private static func checkedShape(_ out: Tensor, network: any UpscaleNetwork, h: Int, w: Int) throws -> Tensor {
        let expected = [1, network.outputChannels, h * network.scale, w * network.scale]
        guard out.shape == expected else {
            throw TensorError.invalidArgument(
                "\(network.architecture) returned \(out.shape) for a \(h)x\(w) tile, expected \(expected)")
        }
        return out
    }
}

/// The running `out` and `out_div` of `tiled_scale_multidim` for one image.
private struct FeatheredSum {
    let channels, height, width: Int
    var sum: [Float]
    var weight: [Float]

    init(channels: Int, height: Int, width: Int) {
        (self.channels, self.height, self.width) = (channels, height, width)
        sum = [Float](repeating: 0, count: channels * height * width)
        weight = [Float](repeating: 0, count: height * width)
    }

    /// The mask along one axis of `length`: ComfyUI multiplies `(t+1)/feather` into the first and
    /// last `feather` rows, so where the ramps overlap (a short tile) both factors apply.
    static func ramp(_ length: Int, feather: Int) -> [Float] {
        var mask = [Float](repeating: 1, count: length)
        guard feather < length else { return mask }
        for t in 0..<feather {
            let a = Float(t + 1) / Float(feather)
            mask[t] *= a
            mask[length - 1 - t] *= a
        }
        return mask
    }

    mutating func add(_ tile: Tensor, atY y0: Int, x x0: Int, feather: Int) {
        let (th, tw) = (tile.dim(2), tile.dim(3))
        let rows = Self.ramp(th, feather: feather), columns = Self.ramp(tw, feather: feather)
        tile.withUnsafeBufferPointer { t in
            for c in 0..<channels {
                for y in 0..<th {
                    let out = (c * height + y0 + y) * width + x0, src = (c * th + y) * tw
                    for x in 0..<tw { sum[out + x] += t[src + x] * (rows[y] * columns[x]) }
                }
            }
        }
        for y in 0..<th {
            for x in 0..<tw { weight[(y0 + y) * width + x0 + x] += rows[y] * columns[x] }
        }
    }

    func result() -> Tensor {
        var out = sum
        let plane = height * width
        for c in 0..<channels {
            for i in 0..<plane { out[c * plane + i] /= weight[i] }
        }
        return (try? Tensor(shape: [1, channels, height, width], scalars: out))
            ?? Tensor(shape: [1, channels, height, width])
    }
}
