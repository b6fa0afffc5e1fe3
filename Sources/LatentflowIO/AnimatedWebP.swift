import CLibWebP
import Foundation

/// Animated WebP through libwebp's animation encoder, set up as Pillow's `save_all` sets it up
/// for ComfyUI's SaveAnimatedWEBP: loop forever, transparent black background, key frames every
/// 9...17 frames lossless (3...5 lossy), no size minimising, RGB pixels kept as ARGB
/// (`use_argb`), frame timestamps `i · duration` ms, the EXIF chunk added by the muxer. libwebp
/// merges identical consecutive frames (their durations add up), as in ComfyUI's files.
public enum AnimatedWebP {
    public struct Frame: Equatable, Sendable {
        public var image: RasterImage
        /// Milliseconds.
        public var duration: Double
    }

    /// `quality` 0...100, `method` 0 (fastest) ... 6 (slowest); `exif` the raw EXIF chunk.
    public static func encode(
        _ frames: [RasterImage], duration: Int, lossless: Bool, quality: Int, method: Int, exif: Data? = nil
    ) throws -> Data {
        guard let first = frames.first else { throw ImageFileError.unsupported("an animation needs a frame") }
        guard frames.allSatisfy({ ($0.width, $0.height, $0.channels) == (first.width, first.height, 3) }) else {
            throw ImageFileError.unsupported("animation frames must be 8-bit RGB of one size")
        }
        var options = WebPAnimEncoderOptions()
        guard WebPAnimEncoderOptionsInit(&options) != 0 else { throw failure("libwebp version mismatch") }
        options.anim_params.loop_count = 0
        options.anim_params.bgcolor = 0
        options.minimize_size = 0
        options.kmin = lossless ? 9 : 3
        options.kmax = lossless ? 17 : 5
        options.allow_mixed = 0
        guard let encoder = WebPAnimEncoderNew(Int32(first.width), Int32(first.height), &options) else {
            throw failure("could not start the WebP animation encoder for \(first.width)x\(first.height)")
        }
        defer { WebPAnimEncoderDelete(encoder) }
        var config = WebPConfig()
        guard WebPConfigInit(&config) != 0 else { throw failure("libwebp version mismatch") }
        config.lossless = lossless ? 1 : 0
        config.quality = Float(quality)
        config.alpha_quality = 100
        config.method = Int32(method)
        guard WebPValidateConfig(&config) != 0 else {
            throw failure("quality \(quality) / method \(method) are not valid WebP settings")
        }
        var timestamp: Int32 = 0
        for frame in frames {
            guard case .uint8(let pixels) = frame.samples else { throw failure("WebP frames take 8-bit samples") }
            var picture = WebPPicture()
            guard WebPPictureInit(&picture) != 0 else { throw failure("libwebp version mismatch") }
            picture.width = Int32(frame.width)
            picture.height = Int32(frame.height)
            picture.use_argb = 1
            defer { WebPPictureFree(&picture) }
            guard WebPPictureImportRGB(&picture, pixels, Int32(frame.width * 3)) != 0,
                WebPAnimEncoderAdd(encoder, &picture, timestamp, &config) != 0
            else { throw failure(String(cString: WebPAnimEncoderGetError(encoder))) }
            timestamp += Int32(duration)
        }
        // A last, empty frame marks the end of the final frame's duration.
        guard WebPAnimEncoderAdd(encoder, nil, timestamp, nil) != 0 else {
            throw failure(String(cString: WebPAnimEncoderGetError(encoder)))
        }
        var assembled = WebPData()
        WebPDataInit(&assembled)
        defer { WebPDataClear(&assembled) }
        guard WebPAnimEncoderAssemble(encoder, &assembled) != 0 else {
            throw failure(String(cString: WebPAnimEncoderGetError(encoder)))
        }
        guard let exif else { return Data(bytes: assembled.bytes, count: assembled.size) }
        return try addingChunk("EXIF", exif, to: assembled)
    }

    /// The muxed file with one more chunk (Pillow's `assemble` with `exif`).
    static func addingChunk(_ fourcc: String, _ body: Data, to file: WebPData) throws -> Data {
        var source = file
        guard let mux = WebPMuxCreate(&source, 1) else { throw failure("could not re-mux the WebP file") }
        defer { WebPMuxDelete(mux) }
        let status = body.withUnsafeBytes { raw -> WebPMuxError in
            var chunk = WebPData(bytes: raw.bindMemory(to: UInt8.self).baseAddress, size: raw.count)
            return WebPMuxSetChunk(mux, fourcc, &chunk, 1)
        }
        guard status == WEBP_MUX_OK else { throw failure("could not add the \(fourcc) chunk (\(status.rawValue))") }
        var output = WebPData()
        WebPDataInit(&output)
        defer { WebPDataClear(&output) }
        guard WebPMuxAssemble(mux, &output) == WEBP_MUX_OK else { throw failure("could not assemble the WebP file") }
        return Data(bytes: output.bytes, count: output.size)
    }

    /// The frames as libwebp's animation decoder composites them (RGB), each with its duration
    /// (the next frame's timestamp minus its own, as Pillow reports it).
    public static func decode(_ data: Data) throws -> [Frame] {
        try data.withUnsafeBytes { raw -> [Frame] in
            var source = WebPData(bytes: raw.bindMemory(to: UInt8.self).baseAddress, size: raw.count)
            var options = WebPAnimDecoderOptions()
            guard WebPAnimDecoderOptionsInit(&options) != 0 else { throw failure("libwebp version mismatch") }
            options.color_mode = MODE_RGBA
            options.use_threads = 0
            guard let decoder = WebPAnimDecoderNew(&source, &options) else { throw failure("not an animated WebP") }
            defer { WebPAnimDecoderDelete(decoder) }
            var info = WebPAnimInfo()
            guard WebPAnimDecoderGetInfo(decoder, &info) != 0 else { throw failure("unreadable WebP animation info") }
            let (w, h) = (Int(info.canvas_width), Int(info.canvas_height))
            var frames: [Frame] = []
            var previous: Int32 = 0
            while WebPAnimDecoderHasMoreFrames(decoder) != 0 {
                var buffer: UnsafeMutablePointer<UInt8>?
                var timestamp: Int32 = 0
                guard WebPAnimDecoderGetNext(decoder, &buffer, &timestamp) != 0, let buffer else {
                    throw failure("a WebP frame could not be decoded")
                }
                var rgb = [UInt8](repeating: 0, count: w * h * 3)
                for pixel in 0..<(w * h) {
                    for channel in 0..<3 { rgb[pixel * 3 + channel] = buffer[pixel * 4 + channel] }
                }
                frames.append(
                    Frame(
                        image: RasterImage(width: w, height: h, channels: 3, samples: .uint8(rgb)),
                        duration: Double(timestamp - previous)))
                previous = timestamp
            }
            return frames
        }
    }

    /// A TIFF EXIF block of ASCII entries, as Pillow's `Exif.tobytes()` writes it (`Exif\0\0`,
    /// big-endian, tags ascending, values padded to even lengths).
    public static func exif(_ entries: [(tag: UInt16, text: String)]) -> Data {
        let sorted = entries.sorted { $0.tag < $1.tag }
        func be16(_ v: Int) -> Data { Data([UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]) }
        func be32(_ v: Int) -> Data { be16(v >> 16) + be16(v & 0xFFFF) }
        var directory = be16(sorted.count), values = Data()
        let valuesStart = 8 + 2 + 12 * sorted.count + 4
        for entry in sorted {
            var value = Data(entry.text.utf8) + Data([0])
            directory += be16(Int(entry.tag)) + be16(2) + be32(value.count)
            if value.count <= 4 {
                directory += value + Data(repeating: 0, count: 4 - value.count)
            } else {
                directory += be32(valuesStart + values.count)
                if value.count % 2 == 1 { value.append(0) }
                values += value
            }
        }
        return Data("Exif\0\0MM".utf8) + be16(42) + be32(8) + directory + be32(0) + values
    }

    static func failure(_ message: String) -> ImageFileError { .unsupported("WebP: \(message)") }
}
