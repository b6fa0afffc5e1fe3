import CLibWebP
import Foundation

extension ImageCodec {
    /// A still, lossy WebP at `quality` (0...100) from 8-bit RGB or RGBA, through libwebp's simple
    /// encoder (method 4, Pillow's default): what ComfyUI's `/view?preview=webp;Q` sends.
    public static func encodeWebP(_ image: RasterImage, quality: Int) throws -> Data {
        guard case .uint8(let pixels) = image.samples, image.channels == 3 || image.channels == 4 else {
            throw ImageFileError.unsupported("a WebP preview takes 8-bit RGB or RGBA pixels")
        }
        let (width, height, stride) = (Int32(image.width), Int32(image.height), Int32(image.width * image.channels))
        let level = Float(min(max(quality, 0), 100))
        var output: UnsafeMutablePointer<UInt8>?
        let size = pixels.withUnsafeBufferPointer { rgb in
            image.channels == 4
                ? WebPEncodeRGBA(rgb.baseAddress, width, height, stride, level, &output)
                : WebPEncodeRGB(rgb.baseAddress, width, height, stride, level, &output)
        }
        defer { WebPFree(output) }
        guard size > 0, let output else {
            throw ImageFileError.unsupported("libwebp could not encode a \(image.width)x\(image.height) preview")
        }
        return Data(bytes: output, count: size)
    }
}
