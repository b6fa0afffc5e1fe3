import Latentflow

/// One decoded image as 8-bit RGBA (opaque where it had no alpha; 16-bit samples keep their
/// high byte, as Pillow's conversion to 8 bits does), and back to RGB or alpha-only images for
/// `/view?channel=`.
enum ImageChannels {
    static func rgba8(_ image: RasterImage) -> [UInt8] {
        let count = image.width * image.height
        let samples: [UInt8]
        switch image.samples {
        case .uint8(let values): samples = values
        case .uint16(let values): samples = values.map { UInt8($0 >> 8) }
        }
        guard image.channels != 4 else { return samples }
        var rgba = [UInt8](repeating: 255, count: count * 4)
        let channels = image.channels
        for pixel in 0..<count where (pixel + 1) * channels <= samples.count {
            for channel in 0..<3 { rgba[pixel * 4 + channel] = samples[pixel * channels + min(channel, channels - 1)] }
        }
        return rgba
    }

    /// The colour channels only (ComfyUI's `channel=rgb`).
    static func rgb(_ image: RasterImage) -> RasterImage {
        let rgba = rgba8(image)
        var rgb = [UInt8](repeating: 0, count: image.width * image.height * 3)
        for pixel in 0..<(image.width * image.height) {
            for channel in 0..<3 { rgb[pixel * 3 + channel] = rgba[pixel * 4 + channel] }
        }
        return RasterImage(width: image.width, height: image.height, channels: 3, samples: .uint8(rgb))
    }

    /// ComfyUI's `channel=a`: black RGBA whose alpha is the image's (255 without one).
    static func alphaOnly(_ image: RasterImage) -> RasterImage {
        let rgba = rgba8(image)
        var out = [UInt8](repeating: 0, count: image.width * image.height * 4)
        for pixel in 0..<(image.width * image.height) { out[pixel * 4 + 3] = rgba[pixel * 4 + 3] }
        return RasterImage(width: image.width, height: image.height, channels: 4, samples: .uint8(out))
    }
}
