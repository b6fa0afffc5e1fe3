import Foundation

/// Animated PNG (APNG): `acTL`, then per frame an `fcTL` and its image data (the first frame in
/// `IDAT`, so that viewers without APNG show it; the others in `fdAT`), each frame compressed by
/// the PNG encoder.
///
/// Writes what Pillow's `save_all` writes for ComfyUI's SaveAnimatedPNG, frame for frame after
/// decoding: consecutive identical frames merge into one with the durations added, delays are
/// `ms/1000` in lowest terms, dispose and blend are "none" and "source", `num_plays` is 0 (loop);
/// a single frame is a plain PNG. Frames are whole-canvas (Pillow crops each to what changed;
/// decoded, the frames are the same).
public enum AnimatedPNG {
    public struct Frame: Equatable, Sendable {
        public var image: RasterImage
        /// Milliseconds.
        public var duration: Double
    }

    /// An APNG of `frames` (8-bit, all one size), `duration` milliseconds each, with `chunks`
    /// (type, data) after the image data (ComfyUI's `comf` metadata).
    public static func encode(
        _ frames: [RasterImage], duration: Int, compressionLevel: Int, chunks: [(type: String, data: Data)] = []
    ) throws -> Data {
        guard let first = frames.first else { throw ImageFileError.unsupported("an animation needs a frame") }
        guard frames.allSatisfy({ ($0.width, $0.height, $0.channels) == (first.width, first.height, first.channels) })
        else { throw ImageFileError.unsupported("animation frames must share one size and channel count") }
        guard (0...65535).contains(duration) else {
            throw ImageFileError.unsupported("a frame duration of \(duration) ms cannot be written")
        }
        // Pillow merges a frame identical to the previous one into it, while the delay still fits.
        var merged: [(image: RasterImage, duration: Int)] = []
        for frame in frames {
            if let last = merged.last, last.image.samples == frame.samples,
                reduced(last.duration + duration).numerator <= 65535
            {
                merged[merged.count - 1].duration += duration
            } else {
                merged.append((frame, duration))
            }
        }
        var out = Data(signature)
        var sequence: UInt32 = 0
        for (index, frame) in merged.enumerated() {
            var plain = frame.image
            plain.textChunks = []
            let parsed = try PNGChunks(ImageCodec.encodePNG(plain, compressionLevel: compressionLevel))
            let data = parsed.all("IDAT").reduce(Data(), +)
            if index == 0 {
                out.append(chunk("IHDR", parsed.all("IHDR").first ?? Data()))
                if merged.count > 1 {
                    out.append(chunk("acTL", be32(UInt32(merged.count)) + be32(0)))
                }
            }
            if merged.count > 1 {
                let delay = reduced(frame.duration)
                out.append(
                    chunk(
                        "fcTL",
                        be32(sequence) + be32(UInt32(plain.width)) + be32(UInt32(plain.height)) + be32(0) + be32(0)
                            + be16(UInt16(delay.numerator)) + be16(UInt16(delay.denominator)) + Data([0, 0])))
                sequence += 1
            }
            if index == 0 {
                out.append(chunk("IDAT", data))
            } else {
                out.append(chunk("fdAT", be32(sequence) + data))
                sequence += 1
            }
        }
        for extra in chunks { out.append(chunk(extra.type, extra.data)) }
        out.append(chunk("IEND", Data()))
        return out
    }

    /// The frames of an APNG as a viewer composites them (dispose "none", blend "source"), with
    /// their delays; a plain PNG is one frame of duration 0.
    public static func decode(_ data: Data) throws -> [Frame] {
        let parsed = try PNGChunks(data)
        guard let header = parsed.all("IHDR").first, header.count == 13 else {
            throw ImageFileError.unsupported("a PNG without its IHDR")
        }
        var canvas = try ImageCodec.decode(data)
        canvas.textChunks = []
        var frames: [Frame] = []
        var control: Data?
        var pieces = Data()
        func finish() throws {
            guard let control else { return }
            let (w, h) = (Int(u32(control, 4)), Int(u32(control, 8)))
            let (x, y) = (Int(u32(control, 12)), Int(u32(control, 16)))
            let numerator = Double(u16(control, 20)), denominator = Double(u16(control, 22))
            var frameHeader = header
            frameHeader.replaceSubrange(0..<8, with: be32(UInt32(w)) + be32(UInt32(h)))
            let png = Data(signature) + chunk("IHDR", frameHeader) + chunk("IDAT", pieces) + chunk("IEND", Data())
            let frame = try ImageCodec.decode(png)
            guard x + w <= canvas.width, y + h <= canvas.height, frame.channels == canvas.channels,
                case .uint8(let source) = frame.samples, case .uint8(var target) = canvas.samples
            else { throw ImageFileError.unsupported("an APNG frame outside its canvas") }
            let c = canvas.channels
            for row in 0..<h {
                let to = ((y + row) * canvas.width + x) * c
                target.replaceSubrange(to..<(to + w * c), with: source[(row * w * c)..<((row + 1) * w * c)])
            }
            canvas.samples = .uint8(target)
            frames.append(Frame(image: canvas, duration: 1000 * numerator / (denominator == 0 ? 100 : denominator)))
        }
        for (type, body) in parsed.chunks {
            switch type {
            case "fcTL":
                try finish()
                (control, pieces) = (body, Data())
            case "IDAT" where control != nil: pieces.append(body)
            case "fdAT": pieces.append(body.dropFirst(4))
            default: break
            }
        }
        try finish()
        return frames.isEmpty ? [Frame(image: canvas, duration: 0)] : frames
    }

    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    static func reduced(_ milliseconds: Int) -> (numerator: Int, denominator: Int) {
        func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
        let divisor = max(1, gcd(milliseconds, 1000))
        return (milliseconds / divisor, 1000 / divisor)
    }

    static func chunk(_ type: String, _ body: Data) -> Data {
        let typed = Data(type.utf8) + body
        return be32(UInt32(body.count)) + typed + be32(crc32(typed))
    }

    static func be32(_ v: UInt32) -> Data {
        Data([UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)])
    }
    static func be16(_ v: UInt16) -> Data { Data([UInt8(v >> 8), UInt8(v & 0xFF)]) }
    static func u32(_ d: Data, _ at: Int) -> UInt32 {
        let b = Array(d.dropFirst(at).prefix(4))
        return b.count < 4 ? 0 : UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3])
    }
    static func u16(_ d: Data, _ at: Int) -> UInt16 {
        let b = Array(d.dropFirst(at).prefix(2))
        return b.count < 2 ? 0 : UInt16(b[0]) << 8 | UInt16(b[1])
    }

    /// The PNG CRC (ISO 3309, polynomial 0xEDB88320).
    static let crcTable: [UInt32] = (0..<256).map { n in
        (0..<8).reduce(UInt32(n)) { c, _ in c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }
    static func crc32(_ data: Data) -> UInt32 {
        ~data.reduce(~UInt32(0)) { crcTable[Int(($0 ^ UInt32($1)) & 0xFF)] ^ ($0 >> 8) }
    }
}

/// A PNG's chunks in file order (type, body), CRCs unchecked.
struct PNGChunks {
    var chunks: [(type: String, body: Data)] = []

    init(_ data: Data) throws {
        let bytes = [UInt8](data)
        guard bytes.starts(with: AnimatedPNG.signature) else { throw ImageFileError.unsupported("not a PNG") }
        var at = 8
        while at + 12 <= bytes.count {
            let length = Int(AnimatedPNG.u32(Data(bytes[at..<(at + 4)]), 0))
            guard at + 12 + length <= bytes.count else { throw ImageFileError.unsupported("a truncated PNG chunk") }
            let type = String(decoding: bytes[(at + 4)..<(at + 8)], as: UTF8.self)
            chunks.append((type, Data(bytes[(at + 8)..<(at + 8 + length)])))
            at += 12 + length
            if type == "IEND" { break }
        }
    }

    func all(_ type: String) -> [Data] { chunks.filter { $0.type == type }.map(\.body) }
}
