import Foundation
import LatentflowIO
import LatentflowModels
import LatentflowTensor
import XCTest

/// The CLIP vision tower and its preprocessing against ComfyUI v0.3.64's own `clip_preprocess` and
/// `CLIPVisionModelProjection` (cross-checked there with transformers' model) on a tiny random
/// tower: scripts/make_clip_vision_fixtures.py.
final class CLIPVisionParityTests: XCTestCase {
    static let fixture = try! SafeTensorsFile(
        path: Bundle.module.url(
            forResource: "clip_vision_tiny", withExtension: "safetensors", subdirectory: "Fixtures")!
            .path)
    static let cases = ["wide", "tall_rgba", "exact"]

    /// The fixture's weights written as a models/clip_vision file would hold them.
    static let modelFile: String = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "clip-vision-\(UUID().uuidString).safetensors")
        let items = fixture.keys.filter { $0.hasPrefix("weights.") }.map {
            SafeTensorsWriter.Item(String($0.dropFirst("weights.".count)), try! fixture.tensor($0))
        }
        try! SafeTensorsWriter.write(items, to: url)
        return url.path
    }()

    func maxError(_ a: Tensor, _ b: Tensor) -> Float {
        XCTAssertEqual(a.shape, b.shape)
        return zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? .infinity
    }

    func testConfigurationIsReadOffTheWeights() throws {
        let (model, bytes) = try StandaloneCLIPVision.load(path: Self.modelFile)
        XCTAssertEqual(model.config.width, 64)
        XCTAssertEqual(model.config.layers, 2)
        XCTAssertEqual(model.config.imageSize, 16)
        XCTAssertEqual(model.config.patchSize, 4)
        XCTAssertEqual(model.config.projectionWidth, 32)
        XCTAssertGreaterThan(bytes, 0)
    }

    /// 8-bit rounding after the resize can land a value on the other side of a half step when the
    /// float sums differ in their last bit: at most one level, at a handful of pixels.
    func testPreprocessingMatchesComfyUI() throws {
        for name in Self.cases {
            for crop in ["center", "none"] {
                let expected = try Self.fixture.tensor("\(name).\(crop).pixels")
                let actual = try CLIPImagePreprocessing.pixels(
                    try Self.fixture.tensor("\(name).image"), size: 16, crop: crop == "center")
                XCTAssertEqual(actual.shape, expected.shape, "\(name) \(crop)")
                let levels = zip(actual.scalars, expected.scalars).enumerated().map { index, pair in
                    abs(pair.0 - pair.1) * CLIPImagePreprocessing.std[(index / 256) % 3] * 255
                }
                XCTAssertLessThanOrEqual(levels.max() ?? .infinity, 1.001, "\(name) \(crop)")
                XCTAssertLessThanOrEqual(
                    levels.filter { $0 > 0.01 }.count, max(2, levels.count / 200), "\(name) \(crop)")
            }
        }
    }

    func testEncoderMatchesComfyUI() throws {
        let (model, _) = try StandaloneCLIPVision.load(path: Self.modelFile)
        for name in Self.cases {
            for crop in ["center", "none"] {
                let output = try model.encode(try Self.fixture.tensor("\(name).\(crop).pixels"))
                let prefix = "\(name).\(crop)"
                XCTAssertLessThan(
                    maxError(output.lastHiddenState, try Self.fixture.tensor("\(prefix).last_hidden_state")), 1e-4,
                    prefix)
                XCTAssertLessThan(
                    maxError(
                        output.penultimateHiddenStates, try Self.fixture.tensor("\(prefix).penultimate_hidden_states")),
                    1e-4, prefix)
                XCTAssertLessThan(
                    maxError(output.imageEmbeds, try Self.fixture.tensor("\(prefix).image_embeds")), 1e-4, prefix)
            }
        }
    }

    func testAFileWithoutAVisionTowerIsRefusedByName() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "not-clip-\(UUID().uuidString).safetensors")
        try SafeTensorsWriter.write([SafeTensorsWriter.Item("text_model.x", Tensor(shape: [2], repeating: 1))], to: url)
        XCTAssertThrowsError(try StandaloneCLIPVision.load(path: url.path)) { error in
            XCTAssertTrue("\(error)".contains("vision_model.embeddings.patch_embedding.weight"), "\(error)")
            XCTAssertTrue("\(error)".contains(url.lastPathComponent), "\(error)")
        }
    }
}
