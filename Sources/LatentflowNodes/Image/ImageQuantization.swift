import LatentflowGraph
import LatentflowIO
import LatentflowTensor

/// Conversions between IMAGE tensors and 8-bit rasters, with ComfyUI's exact rounding.
enum ImageQuantization {
    /// One image of a batch as 8-bit RGB: `clip(255·x, 0, 255).astype(uint8)`, which truncates
    /// (ComfyUI's SaveImage does not round).
    static func rgb8(_ batch: ImageBatch, index: Int) -> [UInt8] {
        let (h, w, c) = (batch.height, batch.width, batch.channels)
        let plane = h * w * c
        return batch.pixels.withUnsafeBufferPointer { p in
            var out = [UInt8](repeating: 0, count: h * w * 3)
            let base = index * plane
            for pixel in 0..<(h * w) {
                for channel in 0..<3 {
                    let value = 255 * p[base + pixel * c + min(channel, c - 1)]
                    out[pixel * 3 + channel] = UInt8(max(0, min(255, value.isNaN ? 0 : value)))
                }
            }
            return out
        }
    }

    /// A decoded file as IMAGE `[1, H, W, 3]` in 0...1 and its mask `[1, H, W]` (1 − alpha, or
    /// a 64x64 zero mask without alpha, as LoadImage does).
    static func imageAndMask(_ raster: RasterImage) -> (ImageBatch, Mask) {
        let (h, w, c) = (raster.height, raster.width, raster.channels)
        let samples = raster.normalizedSamples
        let image = Tensor(shape: [1, h, w, 3]) { out in
            for pixel in 0..<(h * w) {
                for channel in 0..<3 { out[pixel * 3 + channel] = samples[pixel * c + channel] }
            }
        }
        let mask: Tensor
        if c == 4 {
            mask = Tensor(shape: [1, h, w]) { out in
                for pixel in 0..<(h * w) { out[pixel] = 1 - samples[pixel * 4 + 3] }
            }
        } else {
            mask = Tensor(shape: [1, 64, 64])
        }
        return (ImageBatch(image), Mask(mask))
    }
}
