import Foundation
import Latentflow
import LatentflowGraph
import LatentflowIO
import LatentflowNodes
import XCTest

/// SaveAnimatedPNG (and SaveAnimatedWEBP) against the files ComfyUI v0.3.64's own nodes write, as
/// Pillow decodes them (`scripts/make_animated_image_fixtures.py`): our file, decoded back, has
/// the same frames, durations and 8-bit pixels.
final class AnimatedImageSaveTests: XCTestCase {
    nonisolated(unsafe) static let file: SafeTensorsFile = {
        let url = Bundle.module.url(
            forResource: "animated_images", withExtension: "safetensors", subdirectory: "Fixtures")!
        return try! SafeTensorsFile(path: url.path)
    }()
    nonisolated(unsafe) static let cases: [String: [String: Any]] = {
        let json = file.metadata["cases"]!.data(using: .utf8)!
        return try! JSONSerialization.jsonObject(with: json) as! [String: [String: Any]]
    }()

    /// Runs a save node on the fixture's images into a fresh output folder; returns the written
    /// file and the node's UI.
    func save(_ node: any Node, _ name: String, extra: [String: any Sendable]) async throws -> (URL, JSONValue?) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("lf-anim-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: root) }
        let environment = ExecutionEnvironment(outputDirectory: root.appendingPathComponent("output"))
        let context = ExecutionContext(nodeId: "1", classType: "Save", environment: environment)
        var images = try Self.file.tensor("images")
        let batch = (Self.cases[name]!["batch"] as! NSNumber).intValue
        images = try images.slice(axis: 0, start: 0, length: batch)
        var values: [String: any Sendable] = ["images": ImageBatch(images), "filename_prefix": "anim/\(name)"]
        values.merge(extra) { $1 }
        let outputs = try await node.execute(NodeInputs(values), context: context)
        let url = try XCTUnwrap(outputs.files.first)
        XCTAssertEqual(url.lastPathComponent, Self.cases[name]!["filename"] as? String)
        return (url, outputs.ui)
    }

    /// Decoded frames against Pillow's decoding of ComfyUI's file.
    func check(_ frames: [(pixels: [UInt8], duration: Double)], _ name: String, pixels: Bool = true) throws {
        let durations = (Self.cases[name]!["durations"] as! [NSNumber]).map(\.doubleValue)
        XCTAssertEqual(frames.map(\.duration), durations, name)
        guard pixels else { return }
        let expected = try Self.file.tensor(name)
        XCTAssertEqual(frames.count, expected.dim(0), name)
        let plane = expected.count / max(1, expected.dim(0))
        for (index, frame) in frames.enumerated() where index < expected.dim(0) {
            let want = expected.scalars[(index * plane)..<((index + 1) * plane)].map { UInt8($0) }
            XCTAssertEqual(frame.pixels, Array(want), "\(name) frame \(index)")
        }
    }

    func testAnimatedPNGMatchesComfyUI() async throws {
        for name in ["png_6fps", "png_7.3fps", "png_single"] {
            let params = Self.cases[name]!["params"] as! [String: Any]
            let (url, ui) = try await save(
                SaveAnimatedPNG(), name,
                extra: [
                    "fps": (params["fps"] as! NSNumber).doubleValue,
                    "compress_level": (params["compress_level"] as! NSNumber).intValue,
                ])
            XCTAssertEqual(ui?["animated"], .array([.bool(true)]), name)
            let data = try Data(contentsOf: url)
            let frames = try AnimatedPNG.decode(data)
            try check(
                frames.map { frame in
                    guard case .uint8(let samples) = frame.image.samples else { return ([], frame.duration) }
                    return (samples, frame.duration)
                }, name)
            // The prompt rides in a `comf` chunk after the frames, as ComfyUI writes it.
            XCTAssertNotNil(data.range(of: Data("comfprompt\0".utf8)), name)
        }
    }

    /// Lossless: the same frames, durations and pixels as ComfyUI's file; lossy: the same frames
    /// and durations (lossy pixels depend on the libwebp build).
    func testAnimatedWebPMatchesComfyUI() async throws {
        for name in ["webp_lossless", "webp_lossy"] {
            let params = Self.cases[name]!["params"] as! [String: Any]
            let (url, ui) = try await save(
                SaveAnimatedWEBP(), name,
                extra: [
                    "fps": (params["fps"] as! NSNumber).doubleValue, "lossless": params["lossless"] as! Bool,
                    "quality": (params["quality"] as! NSNumber).intValue, "method": params["method"] as! String,
                ])
            XCTAssertEqual(ui?["animated"], .array([.bool(true)]), name)
            let data = try Data(contentsOf: url)
            let frames = try AnimatedWebP.decode(data)
            try check(
                frames.map { frame in
                    guard case .uint8(let samples) = frame.image.samples else { return ([], frame.duration) }
                    return (samples, frame.duration)
                }, name, pixels: name == "webp_lossless")
            // The prompt rides in the EXIF chunk as ComfyUI writes it (Model, 0x0110).
            XCTAssertNotNil(data.range(of: Data("EXIF".utf8)), name)
            XCTAssertNotNil(data.range(of: Data("prompt:{".utf8)), name)
        }
    }

    /// Pillow's `Exif.tobytes()` for ComfyUI's two tags (printed by Pillow 13).
    func testExifMatchesPillow() {
        let expected: [UInt8] =
            Array(
                "Exif\0\0MM\0*\0\0\0\u{08}\0\u{02}\u{01}\u{0f}\0\u{02}\0\0\0\u{0b}\0\0\0&\u{01}\u{10}\0\u{02}\0\0\0\n\0\0\02\0\0\0\0"
                    .utf8)
            + Array("workflow:1\0\0prompt:{}\0".utf8)
        XCTAssertEqual(
            Array(AnimatedWebP.exif([(0x0110, "prompt:{}"), (0x010F, "workflow:1")])), expected)
    }

    func testBadFrameRatesAreRefused() async throws {
        let environment = ExecutionEnvironment(outputDirectory: FileManager.default.temporaryDirectory)
        let context = ExecutionContext(nodeId: "1", classType: "Save", environment: environment)
        let values: [String: any Sendable] = [
            "images": ImageBatch(Tensor(shape: [2, 2, 2, 3])), "filename_prefix": "x", "fps": 0.001,
            "compress_level": 4,
        ]
        do {
            _ = try await SaveAnimatedPNG().execute(NodeInputs(values), context: context)
            XCTFail("fps 0.001 was accepted")
        } catch {
            XCTAssertTrue("\(error)".contains("input 'fps'"), "\(error)")
        }
    }
}
