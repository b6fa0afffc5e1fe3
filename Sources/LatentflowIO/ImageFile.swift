import CImageCodecs
import Foundation

/// A decoded raster image: interleaved RGB or RGBA samples, 8 or 16 bits each, plus the text
/// chunks a PNG carried (ComfyUI keeps its `prompt` and `workflow` JSON there).
public struct RasterImage: Sendable, Equatable {
    public enum Samples: Sendable, Equatable {
        case uint8([UInt8])
        case uint16([UInt16])
    }

    public var width: Int
    public var height: Int
    /// 3 (RGB) or 4 (RGBA).
    public var channels: Int
    public var samples: Samples
    /// Text chunks in file order (tEXt, zTXt and iTXt alike).
    public var textChunks: [(key: String, text: String)]

    public init(
        width: Int, height: Int, channels: Int, samples: Samples, textChunks: [(key: String, text: String)] = []
    ) {
        (self.width, self.height, self.channels, self.samples, self.textChunks) = (
            width, height, channels, samples, textChunks
        )
    }

    public var bitDepth: Int {
        if case .uint16 = samples { return 16 }
        return 8
    }

    /// The text of the first chunk with this key.
    public func text(_ key: String) -> String? { textChunks.first { $0.key == key }?.text }

    /// Samples scaled to 0...1, interleaved.
    public var normalizedSamples: [Float] {
        switch samples {
        case .uint8(let values): return values.map { Float($0) / 255 }
        case .uint16(let values): return values.map { Float($0) / 65535 }
        }
    }

    public static func == (a: RasterImage, b: RasterImage) -> Bool {
        a.width == b.width && a.height == b.height && a.channels == b.channels && a.samples == b.samples
            && a.textChunks.map(\.key) == b.textChunks.map(\.key)
            && a.textChunks.map(\.text) == b.textChunks.map(\.text)
    }
}

public enum ImageFileError: Error, CustomStringConvertible, Equatable {
    case unreadable(file: String, reason: String)
    case corrupt(file: String, format: String, reason: String)
    case unsupported(String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason): return "\(file): cannot read image: \(reason)"
        case let .corrupt(file, format, reason): return "\(file): invalid \(format) data: \(reason)"
        case let .unsupported(reason): return "unsupported image: \(reason)"
        }
    }
}

/// PNG and JPEG encoding and decoding, on libpng and libjpeg-turbo.
public enum ImageCodec {
    public enum Format: String, Sendable { case png, jpeg }

    /// Guesses the format from the first bytes.
    public static func sniff(_ data: Data) -> Format? {
        if data.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return .png }
        if data.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        return nil
    }

    public static func decode(_ data: Data, name: String = "(memory)") throws -> RasterImage {
        switch sniff(data) {
        case .png: return try decode(data, name: name, format: "PNG", lf_png_decode)
        case .jpeg: return try decode(data, name: name, format: "JPEG", lf_jpeg_decode)
        case nil:
            throw ImageFileError.corrupt(file: name, format: "image", reason: "neither a PNG nor a JPEG signature")
        }
    }

    public static func read(path: String) throws -> RasterImage {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ImageFileError.unreadable(file: path, reason: error.localizedDescription)
        }
        return try decode(data, name: path)
    }

    private typealias Decoder = (
        UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<lf_decoded_image>?,
        UnsafeMutablePointer<CChar>?, Int
    ) -> Int32

    private static func decode(_ data: Data, name: String, format: String, _ decoder: Decoder) throws -> RasterImage {
        var image = lf_decoded_image()
        var message = [CChar](repeating: 0, count: 512)
        let status = data.withUnsafeBytes { bytes in
            decoder(bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count, &image, &message, message.count)
        }
        defer { lf_decoded_image_free(&image) }
        guard status == 0 else {
            throw ImageFileError.corrupt(file: name, format: format, reason: String(cString: message))
        }
        let raw = UnsafeRawBufferPointer(start: image.pixels, count: image.pixels_size)
        let samples: RasterImage.Samples =
            image.bit_depth == 16
            ? .uint16(Array(raw.bindMemory(to: UInt16.self))) : .uint8(Array(raw.bindMemory(to: UInt8.self)))
        var texts: [(key: String, text: String)] = []
        for i in 0..<Int(image.text_count) {
            let chunk = image.texts[i]
            texts.append((String(cString: chunk.key), String(cString: chunk.text)))
        }
        return RasterImage(
            width: Int(image.width), height: Int(image.height), channels: Int(image.channels),
            samples: samples, textChunks: texts)
    }

    /// 8-bit PNG with the image's text chunks. Compression level 4 is ComfyUI's default.
    public static func encodePNG(_ image: RasterImage, compressionLevel: Int = 4) throws -> Data {
        guard case .uint8(let pixels) = image.samples else {
            throw ImageFileError.unsupported("PNG encoding takes 8-bit samples")
        }
        try checkLayout(image, pixels.count)
        let keys = image.textChunks.map { strdup($0.key) }, texts = image.textChunks.map { strdup($0.text) }
        defer { (keys + texts).forEach { free($0) } }
        var message = [CChar](repeating: 0, count: 512)
        var output: UnsafeMutablePointer<UInt8>?
        var size = 0
        let status = keys.map { UnsafePointer($0) }.withUnsafeBufferPointer { keyPointers in
            texts.map { UnsafePointer($0) }.withUnsafeBufferPointer { textPointers in
                lf_png_encode(
                    pixels, Int32(image.width), Int32(image.height), Int32(image.channels),
                    keyPointers.baseAddress, textPointers.baseAddress, Int32(keys.count), Int32(compressionLevel),
                    &output, &size, &message, message.count)
            }
        }
        return try takeBuffer(status, output, size, message, format: "PNG")
    }

    /// Baseline JPEG at the given quality (1...100); an alpha channel is dropped.
    public static func encodeJPEG(_ image: RasterImage, quality: Int = 95) throws -> Data {
        guard case .uint8(var pixels) = image.samples else {
            throw ImageFileError.unsupported("JPEG encoding takes 8-bit samples")
        }
        try checkLayout(image, pixels.count)
        guard (1...100).contains(quality) else {
            throw ImageFileError.unsupported("JPEG quality \(quality) is outside 1...100")
        }
        if image.channels == 4 {
            pixels = (0..<(image.width * image.height)).flatMap { i in pixels[(i * 4)..<(i * 4 + 3)] }
        }
        var message = [CChar](repeating: 0, count: 512)
        var output: UnsafeMutablePointer<UInt8>?
        var size = 0
        let status = lf_jpeg_encode(
            pixels, Int32(image.width), Int32(image.height), Int32(quality), &output, &size, &message, message.count)
        return try takeBuffer(status, output, size, message, format: "JPEG")
    }

    private static func checkLayout(_ image: RasterImage, _ count: Int) throws {
        guard image.channels == 3 || image.channels == 4, image.width > 0, image.height > 0,
            count == image.width * image.height * image.channels
        else {
            throw ImageFileError.unsupported(
                "\(image.width)x\(image.height)x\(image.channels) image with \(count) samples")
        }
    }

    private static func takeBuffer(
        _ status: Int32, _ output: UnsafeMutablePointer<UInt8>?, _ size: Int,
        _ message: [CChar], format: String
    ) throws -> Data {
        guard status == 0, let output else {
            throw ImageFileError.corrupt(file: "(encoder)", format: format, reason: String(cString: message))
        }
        defer { lf_free(output) }
        return Data(bytes: output, count: size)
    }
}
