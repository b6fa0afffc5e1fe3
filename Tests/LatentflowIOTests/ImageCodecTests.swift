import Foundation
import LatentflowIO
import XCTest

final class ImageCodecTests: XCTestCase {
    private struct Expected: Decodable {
        let width: Int, height: Int, channels: Int
        let bit_depth: Int
        let samples: [Int]
        let texts: [String: String]
    }

    private func fixture(_ name: String, _ ext: String) throws -> (RasterImage, Expected) {
        let url = Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "Fixtures")!
        let expectedURL = Bundle.module.url(
            forResource: "\(name).expected", withExtension: "json", subdirectory: "Fixtures")!
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: expectedURL))
        return (try ImageCodec.read(path: url.path), expected)
    }

    private func samples(_ image: RasterImage) -> [Int] {
        switch image.samples {
        case .uint8(let values): return values.map(Int.init)
        case .uint16(let values): return values.map(Int.init)
        }
    }

    /// Pillow's decoding of the same files is the reference.
    func testDecodesLikePillow() throws {
        for name in ["comfy_rgb8", "rgba8", "gray16", "rgb16", "palette"] {
            let (image, expected) = try fixture(name, "png")
            XCTAssertEqual(
                [image.width, image.height, image.channels, image.bitDepth],
                [expected.width, expected.height, expected.channels, expected.bit_depth], name)
            XCTAssertEqual(samples(image), expected.samples, name)
        }
    }

    func testReadsComfyUIMetadata() throws {
        let (image, expected) = try fixture("comfy_rgb8", "png")
        XCTAssertEqual(image.text("prompt"), expected.texts["prompt"])
        XCTAssertEqual(image.text("workflow"), expected.texts["workflow"])
    }

    func testTextChunksRoundTrip() throws {
        let pixels = (0..<(6 * 4 * 3)).map { UInt8($0 * 3 % 256) }
        let image = RasterImage(
            width: 6, height: 4, channels: 3, samples: .uint8(pixels),
            textChunks: [("prompt", #"{"3":{"class_type":"KSampler"}}"#), ("workflow", "ünïcode ✓ text")])
        let decoded = try ImageCodec.decode(try ImageCodec.encodePNG(image))
        XCTAssertEqual(decoded, image)
    }

    func testJPEGDecodeAndEncode() throws {
        let (image, expected) = try fixture("gradient", "jpg")
        XCTAssertEqual([image.width, image.height, image.channels], [expected.width, expected.height, 3])
        // libjpeg-turbo and Pillow's libjpeg may round the IDCT differently by one level.
        XCTAssertLessThanOrEqual(zip(samples(image), expected.samples).map { abs($0 - $1) }.max()!, 1)
        let reencoded = try ImageCodec.decode(try ImageCodec.encodeJPEG(image, quality: 95))
        XCTAssertLessThanOrEqual(zip(samples(reencoded), samples(image)).map { abs($0 - $1) }.max()!, 12)
        XCTAssertThrowsError(try ImageCodec.encodeJPEG(image, quality: 0))
    }

    func testCorruptFilesGiveClearErrors() throws {
        let (image, _) = try fixture("rgba8", "png")
        let png = try ImageCodec.encodePNG(image)
        let cases: [(String, Data, String)] = [
            ("garbage", Data("hello".utf8), "neither a PNG nor a JPEG"),
            ("truncated png", png.prefix(png.count / 2), "invalid PNG data"),
            (
                "bad crc",
                {
                    var d = png
                    d[d.count - 20] ^= 0xFF
                    return d
                }(), "invalid PNG data"
            ),
            ("truncated jpeg", Data([0xFF, 0xD8, 0xFF, 0xE0, 0, 16]), "invalid JPEG data"),
        ]
        for (label, data, expected) in cases {
            XCTAssertThrowsError(try ImageCodec.decode(data, name: "\(label).png"), label) { error in
                XCTAssertTrue("\(error)".contains(expected) && "\(error)".contains(label), "\(label): \(error)")
            }
        }
    }
}
