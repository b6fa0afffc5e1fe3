import Foundation
import LatentflowIO
import LatentflowModels
import LatentflowTensor
import XCTest

/// ESRGAN (old, Real-ESRGAN and BSRGAN key layouts, x4 and the pixel-unshuffle x2) and Real-ESRGAN
/// Compact against spandrel (ComfyUI's upscale-model library, loaded by ComfyUI v0.3.64's own
/// UpscaleModelLoader) on the same random float16 weights, and ComfyUI's own comfy.utils.tiled_scale
/// (scripts/make_upscale_fixtures.py). Bound: image PSNR >= 60 dB (peak 1).
final class UpscaleModelTests: XCTestCase {
    static func fixture(_ name: String) -> String {
        Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/upscale")!.path
    }
    static let reference = try! SafeTensorsFile(path: fixture("upscale_reference.safetensors"))

    func psnr(_ a: Tensor, _ b: Tensor, file: StaticString = #filePath, line: UInt = #line) -> Double {
        XCTAssertEqual(a.shape, b.shape, file: file, line: line)
        guard a.shape == b.shape else { return 0 }
        let mse = zip(a.scalars, b.scalars).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(a.count)
        return mse == 0 ? .infinity : 10 * log10(1 / mse)
    }

    func check(_ file: String, case name: String, architecture: String, scale: Int) throws {
        let (network, _) = try UpscaleModelDetection.load(path: Self.fixture(file))
        XCTAssertEqual(network.architecture, architecture)
        XCTAssertEqual(network.scale, scale)
        let out = try network(try Self.reference.tensor("\(name).input"))
        let db = psnr(out, try Self.reference.tensor("\(name).output"))
        XCTAssertGreaterThanOrEqual(db, 60, "\(file): \(db) dB against spandrel")
        let clamped = try network.upscale(try Self.reference.tensor("\(name).input"))
        let clampedDB = psnr(clamped, try Self.reference.tensor("\(name).descriptor"))
        XCTAssertGreaterThanOrEqual(clampedDB, 60, "\(file): descriptor call \(clampedDB) dB against spandrel")
        print("\(file): \(db) dB (network), \(clampedDB) dB (descriptor call) against spandrel")
    }

    func testESRGANx4OldLayoutPickleMatchesSpandrel() throws {
        try check("esrgan_x4_old.pth", case: "esrgan_x4_old", architecture: "ESRGAN", scale: 4)
    }

    func testESRGANx4BSRGANLayoutSafetensorsMatchesSpandrel() throws {
        try check("esrgan_x4_bsrgan.safetensors", case: "esrgan_x4_old", architecture: "ESRGAN", scale: 4)
    }

    func testRealESRGANx2PlusWithPixelUnshuffleMatchesSpandrel() throws {
        try check("realesrgan_x2plus.pth", case: "realesrgan_x2plus", architecture: "ESRGAN", scale: 2)
    }

    func testCompactx4MatchesSpandrel() throws {
        try check("compact_x4.safetensors", case: "compact_x4", architecture: "RealESRGAN Compact", scale: 4)
    }

    func testDetectsTheConfigurations() throws {
        let x2 = try XCTUnwrap(
            try UpscaleModelDetection.load(path: Self.fixture("realesrgan_x2plus.pth")).network as? RRDBNet)
        XCTAssertEqual(x2.configuration.shuffleFactor, 2)
        XCTAssertEqual([x2.configuration.features, x2.configuration.blocks, x2.configuration.networkScale], [8, 1, 4])
        XCTAssertEqual(x2.inputChannels, 3)
        let compact = try XCTUnwrap(
            try UpscaleModelDetection.load(path: Self.fixture("compact_x4.safetensors")).network as? SRVGGNetCompact)
        let c = compact.configuration
        XCTAssertEqual([c.inChannels, c.outChannels, c.features, c.convs, c.scale], [3, 3, 8, 3, 4])
    }

    func testTiledUpscaleBlendsAsComfyUI() throws {
        let (network, _) = try UpscaleModelDetection.load(path: Self.fixture("compact_x4.safetensors"))
        let input = try Self.reference.tensor("compact_tiled.input")  // [2, 3, 24, 21]
        var tiles = 0
        let out = try TiledUpscale.run(input, network: network, tile: 16, overlap: 4) { tiles += 1 }
        XCTAssertEqual(tiles, 2 * TiledUpscale.tileCount(height: 24, width: 21, tile: 16, overlap: 4))
        XCTAssertEqual(TiledUpscale.tileCount(height: 24, width: 21, tile: 16, overlap: 4), 4)
        let db = psnr(out, try Self.reference.tensor("compact_tiled.output"))
        print("tiled compact x4 vs ComfyUI's tiled_scale: \(db) dB")
        XCTAssertGreaterThanOrEqual(db, 60, "tiled: \(db) dB against ComfyUI's tiled_scale")
    }

    func testUnknownArchitectureIsRefusedNamingTheFile() throws {
        let tensors = ["layers.0.weight": Tensor(shape: [4, 3, 3, 3]), "head.bias": Tensor(shape: [4])]
        XCTAssertThrowsError(try UpscaleModelDetection.network(from: tensors, file: "swinir.pth")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("swinir.pth") && text.contains("unsupported upscale model architecture"), text)
        }
    }

    func testBadShapesAreClearErrorsNotCrashes() throws {
        var tensors: [String: Tensor] = [:]
        for (key, value) in try UpscaleStateDict.load(path: Self.fixture("esrgan_x4_old.pth")) { tensors[key] = value }
        var broken = tensors
        broken["model.0.weight"] = Tensor(shape: [8, 3])
        XCTAssertThrowsError(try UpscaleModelDetection.network(from: broken, file: "a.pth")) { error in
            XCTAssertTrue("\(error)".contains("model.0.weight"), "\(error)")
        }
        broken = tensors
        broken["model.1.sub.0.RDB2.conv3.0.weight"] = Tensor(shape: [32, 7, 3, 3])
        XCTAssertThrowsError(try UpscaleModelDetection.network(from: broken, file: "b.pth")) { error in
            XCTAssertTrue("\(error)".contains("RDB2.conv3"), "\(error)")
        }
        broken = tensors.filter { !$0.key.hasPrefix("model.10.") }
        XCTAssertThrowsError(try UpscaleModelDetection.network(from: broken, file: "c.pth"))
        let compact = try UpscaleStateDict.load(path: Self.fixture("compact_x4.safetensors"))
        broken = compact
        broken["body.8.bias"] = Tensor(shape: [7])
        XCTAssertThrowsError(try UpscaleModelDetection.network(from: broken, file: "d.safetensors")) { error in
            XCTAssertTrue("\(error)".contains("body.8.bias"), "\(error)")
        }
    }
}
