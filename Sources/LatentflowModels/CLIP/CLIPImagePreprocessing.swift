import LatentflowTensor

/// ComfyUI's `clip_vision.clip_preprocess`: images `[N, H, W, C]` in 0...1 (alpha dropped) to CLIP's
/// normalised `[N, 3, size, size]`. With `crop`, the short side is scaled to `size` (Python's
/// `round`) and the centre cut out; without, the image is squashed to `size` x `size`. Resizing is
/// antialiased bicubic; the pixels are then rounded to 8 bits, as CLIP saw them in training.
public enum CLIPImagePreprocessing {
    public static let mean: [Float] = [0.48145466, 0.4578275, 0.40821073]
    public static let std: [Float] = [0.26862954, 0.26130258, 0.27577711]

    public static func pixels(_ images: Tensor, size: Int, crop: Bool) throws -> Tensor {
        guard images.rank == 4, images.dim(3) >= 3, images.dim(1) > 0, images.dim(2) > 0 else {
            throw TensorError.invalidArgument("CLIP vision takes images [N, H, W, 3 or 4], got \(images.shape)")
        }
        var x = try images.slice(axis: 3, start: 0, length: 3).permuted([0, 3, 1, 2])
        let (h, w) = (x.dim(2), x.dim(3))
        if h != size || w != size {
            var target = (size, size)
            if crop {
                let scale = Double(size) / Double(min(h, w))
                target = (
                    Int((scale * Double(h)).rounded(.toNearestOrEven)),
                    Int((scale * Double(w)).rounded(.toNearestOrEven))
                )
            }
            x = try x.resizedBicubicAntialiased(height: target.0, width: target.1)
            let top = (x.dim(2) - size) / 2, left = (x.dim(3) - size) / 2
            x = try x.slice(axis: 2, start: max(top, 0), length: min(size, x.dim(2)))
                .slice(axis: 3, start: max(left, 0), length: min(size, x.dim(3)))
        }
        let plane = x.dim(2) * x.dim(3)
        return Tensor(shape: x.shape) { out in
            x.withUnsafeBufferPointer { p in
                for i in 0..<p.count {
                    let channel = (i / plane) % 3
                    let quantised = (min(max(255 * p[i], 0), 255)).rounded(.toNearestOrEven) / 255
                    out[i] = (quantised - mean[channel]) / std[channel]
                }
            }
        }
    }
}
