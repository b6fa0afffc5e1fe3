import LatentflowGraph
import LatentflowModels
import LatentflowTensor

/// Decodes in overlapping tiles so large images fit in bounded memory.
///
/// Matches: ComfyUI `VAE.decode_tiled_` (the average of three tilings: tall, wide and square
/// tiles) over `comfy.utils.tiled_scale_multidim` (tiles at strides of tile − overlap, each
/// blended with a mask feathered linearly over the overlap, normalised by the mask sum).
public struct VAEDecodeTiled: Node {
    static let samples = Input<Latent>("samples")
    static let vae = Input<VAEModel>("vae")
    static let tileSize = Input.int("tile_size", default: 512, min: 64, max: 4096, step: 32)
    static let overlap = Input.int("overlap", default: 64, min: 0, max: 4096, step: 32)
    static let temporalSize = Input.int(
        "temporal_size", default: 64, min: 8, max: 4096, step: 4,
        tooltip: "Only used for video VAEs: amount of frames to decode at a time.")
    static let temporalOverlap = Input.int(
        "temporal_overlap", default: 8, min: 4, max: 4096, step: 4,
        tooltip: "Only used for video VAEs: amount of frames to overlap.")

    public static let schema = NodeSchema(
        "VAEDecodeTiled", displayName: "VAE Decode (Tiled)", category: "_for_testing",
        inputs: [samples, vae, tileSize, overlap, temporalSize, temporalOverlap], outputs: outputs(Output<ImageBatch>())
    )

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        let latent = try inputs[Self.samples].samples, vae = try inputs[Self.vae].autoencoder
        let tileSize = try inputs[Self.tileSize]
        var overlap = try inputs[Self.overlap]
        if tileSize < overlap * 4 { overlap = tileSize / 4 }
        let format = vae.latentFormat
        let (tile, lap) = (format.latentLength(forPixels: tileSize), format.latentLength(forPixels: overlap))
        var images: [Tensor] = []
        for b in 0..<latent.dim(0) {
            let sample = try latent.slice(axis: 0, start: b, length: 1)
            var sum: Tensor?
            for (tileY, tileX) in [(tile * 2, tile / 2), (tile / 2, tile * 2), (tile, tile)] {
                try context.checkCancellation()
                let pass = try Self.tiledDecode(sample, vae: vae, tile: (max(1, tileY), max(1, tileX)), overlap: lap)
                sum = try sum.map { try $0.adding(pass) } ?? pass
            }
            images.append(sum!.scaled(by: 1 / 3.0).scaled(by: 1, adding: 1).scaled(by: 0.5).clamped(min: 0, max: 1))
        }
        return NodeOutputs(try ImageBatch(channelsFirst: Tensor.concat(images, axis: 0)))
    }

    static func tiledDecode(_ z: Tensor, vae: any ImageAutoencoder, tile: (Int, Int), overlap: Int) throws -> Tensor {
        try Tiling.run(z, tile: tile, overlap: overlap, scale: Double(vae.latentFormat.downscaleFactor), outChannels: 3)
        {
            try vae.decode($0)
        }
    }
}

/// Encodes in overlapping tiles (ComfyUI `VAE.encode_tiled_`: the average of square, wide and
/// tall tilings in pixel space, the latents blended with feathered masks).
public struct VAEEncodeTiled: Node {
    static let pixels = Input<ImageBatch>("pixels")
    static let vae = Input<VAEModel>("vae")
    static let tileSize = Input.int("tile_size", default: 512, min: 64, max: 4096, step: 64)
    static let overlap = Input.int("overlap", default: 64, min: 0, max: 4096, step: 32)
    static let temporalSize = Input.int(
        "temporal_size", default: 64, min: 8, max: 4096, step: 4,
        tooltip: "Only used for video VAEs: amount of frames to encode at a time.")
    static let temporalOverlap = Input.int(
        "temporal_overlap", default: 8, min: 4, max: 4096, step: 4,
        tooltip: "Only used for video VAEs: amount of frames to overlap.")

    public static let schema = NodeSchema(
        "VAEEncodeTiled", displayName: "VAE Encode (Tiled)", category: "_for_testing",
        inputs: [pixels, vae, tileSize, overlap, temporalSize, temporalOverlap], outputs: outputs(Output<Latent>()))

    public init() {}

    public func execute(_ inputs: NodeInputs, context: ExecutionContext) async throws -> NodeOutputs {
        var image = try inputs[Self.pixels].channelsFirst()
        if image.dim(1) > 3 { image = try image.slice(axis: 1, start: 0, length: 3) }
        let vae = try inputs[Self.vae].autoencoder
        try checkEncodable(image, vae, context)
        let tile = try inputs[Self.tileSize], overlap = try inputs[Self.overlap]
        let format = vae.latentFormat
        var latents: [Tensor] = []
        for b in 0..<image.dim(0) {
            try context.checkCancellation()
            let sample = try image.slice(axis: 0, start: b, length: 1).scaled(by: 2, adding: -1)
            var sum: Tensor?
            for (tileY, tileX) in [(tile, tile), (tile / 2, tile * 2), (tile * 2, tile / 2)] {
                let pass = try Tiling.run(
                    sample, tile: (tileY, tileX), overlap: overlap,
                    scale: 1.0 / Double(format.downscaleFactor), outChannels: format.channels
                ) {
                    try vae.encode($0)
                }
                sum = try sum.map { try $0.adding(pass) } ?? pass
            }
            latents.append(sum!.scaled(by: 1 / 3.0))
        }
        return NodeOutputs(Latent(try Tensor.concat(latents, axis: 0)))
    }
}

/// ComfyUI's `tiled_scale_multidim` for 2-D: apply `function` to overlapping tiles of `input`
/// (`[1, C, H, W]`), place each result at its position scaled by `scale`, blend with masks that
/// ramp linearly over the (scaled) overlap, divide by the mask sum.
enum Tiling {
    static func run(
        _ input: Tensor, tile: (Int, Int), overlap: Int, scale: Double, outChannels: Int,
        _ function: (Tensor) throws -> Tensor
    ) throws -> Tensor {
        let (h, w) = (input.dim(2), input.dim(3))
        if h <= tile.0 && w <= tile.1 { return try function(input) }
        func scaled(_ v: Int) -> Int { Int((Double(v) * scale).rounded(.toNearestOrEven)) }
        func positions(_ size: Int, _ tile: Int) -> [Int] {
            size > tile ? Array(stride(from: 0, to: size - overlap, by: max(1, tile - overlap))) : [0]
        }
        let (outH, outW) = (scaled(h), scaled(w))
        var out = Tensor(shape: [1, outChannels, outH, outW]), weight = Tensor(shape: [1, 1, outH, outW])
        let feather = scaled(overlap)
        func ramp(_ i: Int, _ size: Int) -> Float {
            guard feather < size else { return 1 }
            var m: Float = 1
            if i < feather { m *= Float(i + 1) / Float(feather) }
            if size - 1 - i < feather { m *= Float(size - i) / Float(feather) }
            return m
        }
        for y0 in positions(h, tile.0) {
            for x0 in positions(w, tile.1) {
                let y = max(0, min(h - overlap, y0)), x = max(0, min(w - overlap, x0))
                let th = min(tile.0, h - y), tw = min(tile.1, w - x)
                let piece = try function(
                    input.slice(axis: 2, start: y, length: th).slice(axis: 3, start: x, length: tw))
                let (ph, pw) = (piece.dim(2), piece.dim(3))
                let (oy, ox) = (scaled(y), scaled(x))
                out.withUnsafeMutableBufferPointer { o in
                    weight.withUnsafeMutableBufferPointer { wgt in
                        for yy in 0..<ph where oy + yy < outH {
                            let my = ramp(yy, ph)
                            for xx in 0..<pw where ox + xx < outW {
                                let m = my * ramp(xx, pw)
                                let target = (oy + yy) * outW + ox + xx
                                wgt[target] += m
                                for c in 0..<outChannels {
                                    o[c * outH * outW + target] += piece.scalars[(c * ph + yy) * pw + xx] * m
                                }
                            }
                        }
                    }
                }
            }
        }
        return try out.dividing(weight)
    }
}
