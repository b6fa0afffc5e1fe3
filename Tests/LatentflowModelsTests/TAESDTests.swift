import Foundation
import LatentflowIO
import LatentflowModels
import LatentflowTensor
import XCTest

/// TAESD and the step previews against a torch transcription of ComfyUI's `comfy/taesd/taesd.py`
/// and `latent_preview.py` on random float16 weights (scripts/make_taesd_fixtures.py). Bounds:
/// image PSNR >= 60 dB (peak 1), latent PSNR >= 90 dB (peak: the reference's largest
/// magnitude), preview bytes within 1 of ComfyUI's rounding.
final class TAESDTests: XCTestCase {
    static func fixture(_ name: String) -> String {
        Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/taesd")!.path
    }
    static let reference = try! SafeTensorsFile(path: fixture("reference.safetensors"))

    func psnr(_ a: Tensor, _ b: Tensor, peak: Float = 1, file: StaticString = #filePath, line: UInt = #line) -> Double {
        XCTAssertEqual(a.shape, b.shape, file: file, line: line)
        guard a.shape == b.shape else { return 0 }
        let mse = zip(a.scalars, b.scalars).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(a.count)
        return mse == 0 ? .infinity : 10 * log10(Double(peak * peak) / mse)
    }

    func checkRoundTrip(_ ext: String) throws {
        let (taesd, bytes, weights) = try TAESDFiles.load(
            encoderPath: Self.fixture("taesd_encoder.\(ext)"), decoderPath: Self.fixture("taesd_decoder.\(ext)"))
        XCTAssertEqual(taesd.width, 8)
        XCTAssertEqual(taesd.latentChannels, 4)
        XCTAssertGreaterThan(bytes, 0)
        XCTAssertNotNil(weights["taesd_encoder.0.weight"])
        XCTAssertNotNil(weights["taesd_decoder.19.bias"])
        XCTAssertNotNil(weights["vae_scale"])
        // As ComfyUI's VAE calls it: process_input (2x - 1), encode; decode, process_output.
        let image = try Self.reference.tensor("image")
        let encoded = try taesd.encode(image.scaled(by: 2, adding: -1))
        let expectedLatent = try Self.reference.tensor("encoded")
        let peak = expectedLatent.scalars.map(abs).max() ?? 1
        let latentDB = psnr(encoded, expectedLatent, peak: peak)
        XCTAssertGreaterThanOrEqual(latentDB, 90, "\(ext): encode \(latentDB) dB")
        let decoded = try taesd.decode(try Self.reference.tensor("latent")).scaled(by: 1, adding: 1).scaled(by: 0.5)
            .clamped(min: 0, max: 1)
        let imageDB = psnr(decoded, try Self.reference.tensor("decoded"))
        XCTAssertGreaterThanOrEqual(imageDB, 60, "\(ext): decode \(imageDB) dB")
        print("TAESD \(ext): encode \(latentDB) dB, decode \(imageDB) dB against ComfyUI's taesd.py")
    }

    func testSafetensorsRoundTripMatchesComfyUI() throws { try checkRoundTrip("safetensors") }

    func testPickleRoundTripMatchesComfyUI() throws { try checkRoundTrip("pth") }

    func checkPreview(_ previewer: any LatentPreviewer, _ key: String) throws {
        let image = try previewer.previewImage(try Self.reference.tensor("x0"), maxSize: nil)
        let expected = try Self.reference.tensor(key)  // [H, W, 3] uint8 values
        XCTAssertEqual([image.height, image.width, 3], expected.shape)
        guard case .uint8(let bytes) = image.samples else { return XCTFail("8-bit preview expected") }
        let differences = zip(bytes, expected.scalars).map { abs(Float($0) - $1) }
        XCTAssertLessThanOrEqual(differences.max() ?? 0, 1, key)
        XCTAssertLessThanOrEqual(differences.filter { $0 > 0 }.count, bytes.count / 100, key)
    }

    func testLatent2RGBPreviewMatchesComfyUI() throws {
        try checkPreview(Latent2RGBPreviewer.sd15, "latent2rgb_preview")
    }

    func testTAESDPreviewMatchesComfyUI() throws {
        try checkPreview(
            TAESDPreviewer(try TAESDFiles.loadDecoder(path: Self.fixture("taesd_decoder.pth"))), "taesd_preview")
    }

    /// `ImageOps.contain` to 512: a 6x8 latent's 6x8 latent2rgb preview becomes 384x512, JPEG.
    func testPreviewIsScaledToThePreviewSizeAndEncodedAsJPEG() throws {
        let x0 = try Self.reference.tensor("x0")
        let image = try Latent2RGBPreviewer.sd15.previewImage(x0, maxSize: 512)
        XCTAssertEqual([image.width, image.height], [512, 384])
        let jpeg = try Latent2RGBPreviewer.sd15.previewJPEG(x0, maxSize: 512)
        let decoded = try ImageCodec.decode(jpeg)
        XCTAssertEqual([decoded.width, decoded.height], [512, 384])
    }

    func testDecoderWithMissingKeysIsRefusedNamingTheFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("taesd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = try SafeTensorsFile(path: Self.fixture("taesd_decoder.safetensors"))
        let items = try file.keys.filter { $0 != "18.conv.2.weight" }.map {
            SafeTensorsWriter.Item($0, try file.tensor($0))
        }
        let path = folder.appendingPathComponent("taesd_decoder.safetensors").path
        try SafeTensorsWriter.write(items, to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try TAESDFiles.loadDecoder(path: path)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(path) && text.contains("18.conv.2.weight"), text)
        }
        XCTAssertThrowsError(try TAESDFiles.loadDecoder(path: Self.fixture("taesd_encoder.safetensors"))) { error in
            XCTAssertTrue("\(error)".contains("taesd_encoder.safetensors"), "\(error)")
        }
    }

    /// A latent of the wrong channel count is refused, not read out of bounds.
    func testPreviewOfOtherChannelsIsRefused() throws {
        XCTAssertThrowsError(try Latent2RGBPreviewer.sd15.previewImage(Tensor(shape: [1, 3, 4, 4]), maxSize: nil))
    }
}
