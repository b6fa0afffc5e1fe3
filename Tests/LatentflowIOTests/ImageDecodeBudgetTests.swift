import Foundation
import LatentflowIO
import XCTest

/// Issue 24 items 7 and 12: a small file whose header claims a huge image is refused from the
/// header (before any pixel memory is allocated) when it exceeds the caller's pixel budget, and a
/// truncated JPEG decodes with a warning instead of silently.
final class ImageDecodeBudgetTests: XCTestCase {
    func gradient(width: Int, height: Int) -> RasterImage {
        var pixels: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width {
                pixels += [UInt8(x * 255 / max(1, width - 1)), UInt8(y * 255 / max(1, height - 1)), 77]
            }
        }
        return RasterImage(width: width, height: height, channels: 3, samples: .uint8(pixels))
    }

    /// A one-row PNG whose IHDR is patched (with a valid CRC) to claim `width` x `height`.
    func pngClaiming(width: Int, height: Int) throws -> Data {
        var data = [UInt8](try ImageCodec.encodePNG(gradient(width: width, height: 1)))
        XCTAssertEqual(Array(data[12..<16]), Array("IHDR".utf8))
        for (offset, value) in [(16, width), (20, height)] {
            for i in 0..<4 { data[offset + i] = UInt8((value >> (24 - 8 * i)) & 0xFF) }
        }
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data[12..<29] {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        crc = ~crc
        for i in 0..<4 { data[29 + i] = UInt8((crc >> (24 - 8 * UInt32(i))) & 0xFF) }
        return Data(data)
    }

    func testAPNGClaimingMoreThanThePixelBudgetIsRefusedFromItsHeader() throws {
        let png = try pngClaiming(width: 16384, height: 16384)
        XCTAssertLessThan(png.count, 100_000)
        XCTAssertThrowsError(try ImageCodec.decode(png, name: "huge.png", maxPixels: 1 << 24)) { error in
            XCTAssertEqual(
                error as? ImageFileError,
                .tooLarge(file: "huge.png", format: "PNG", width: 16384, height: 16384, channels: 3, maxPixels: 1 << 24)
            )
            XCTAssertTrue("\(error)".contains("huge.png") && "\(error)".contains("16384x16384"), "\(error)")
        }
    }

    func testAJPEGBeyondThePixelBudgetIsRefusedAndOneWithinItDecodes() throws {
        let jpeg = try ImageCodec.encodeJPEG(gradient(width: 64, height: 48))
        XCTAssertThrowsError(try ImageCodec.decode(jpeg, name: "a.jpg", maxPixels: 64 * 48 - 1)) { error in
            XCTAssertEqual(
                error as? ImageFileError,
                .tooLarge(file: "a.jpg", format: "JPEG", width: 64, height: 48, channels: 3, maxPixels: 64 * 48 - 1))
        }
        let decoded = try ImageCodec.decode(jpeg, name: "a.jpg", maxPixels: 64 * 48)
        XCTAssertEqual([decoded.width, decoded.height], [64, 48])
        XCTAssertEqual(decoded, try ImageCodec.decode(jpeg), "the budget does not change what decodes")
        XCTAssertNil(decoded.decodeWarning)
    }

    func testATruncatedJPEGDecodesWithAWarning() throws {
        let jpeg = try ImageCodec.encodeJPEG(gradient(width: 64, height: 64))
        let decoded = try ImageCodec.decode(jpeg.prefix(jpeg.count * 2 / 3), name: "cut.jpg")
        XCTAssertEqual([decoded.width, decoded.height], [64, 64])
        let warning = try XCTUnwrap(decoded.decodeWarning)
        XCTAssertTrue(warning.contains("truncated") && warning.contains("Premature end of JPEG file"), warning)
    }

    func testAPNGWithinThePixelBudgetDecodesAsBefore() throws {
        let png = try ImageCodec.encodePNG(gradient(width: 40, height: 30))
        XCTAssertEqual(try ImageCodec.decode(png, maxPixels: 1200), try ImageCodec.decode(png))
        XCTAssertThrowsError(try ImageCodec.decode(png, maxPixels: 1199))
    }
}
