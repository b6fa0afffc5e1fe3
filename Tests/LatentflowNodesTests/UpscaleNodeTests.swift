import Foundation
import Latentflow
import LatentflowGraph
import LatentflowIO
import LatentflowNodes
import XCTest

/// UpscaleModelLoader and ImageUpscaleWithModel on the tiny stand-in ESRGAN x4 of
/// `models/upscale_models`: ComfyUI's 512 tile halved while a tile would not fit the memory
/// budget (its out-of-memory fallback), a clear failure below 128, and clamped 4x images.
final class UpscaleNodeTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    var output: URL!

    override func setUpWithError() throws {
        output = FileManager.default.temporaryDirectory.appendingPathComponent("lf-upscale-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: output) }

    func testTileIsHalvedUntilItFitsTheBudget() throws {
        // The tiny model's estimate: nf 8, gc 32, 3·(8 + 4·32) + 2·3 floats per input pixel.
        let perPixel = 414 * 4
        func tile(_ budget: Int, height: Int = 600, width: Int = 700) throws -> Int {
            try ImageUpscaleWithModel.tileSize(
                floatsPerInputPixel: 414, model: "ESRGAN x4", height: height, width: width, budget: budget)
        }
        XCTAssertEqual(try tile(512 * 512 * perPixel), 512)
        XCTAssertEqual(try tile(512 * 512 * perPixel - 1), 256)
        XCTAssertEqual(try tile(128 * 128 * perPixel), 128)
        XCTAssertThrowsError(try tile(128 * 128 * perPixel - 1)) { error in
            XCTAssertTrue("\(error)".contains("does not fit the memory budget"), "\(error)")
        }
        // An image smaller than the tile needs only its own pixels.
        XCTAssertEqual(try tile(40 * 60 * perPixel, height: 40, width: 60), 512)
    }

    func testTheReadyToRunWorkflowValidates() throws {
        let engine = try Engine(paths: ModelPaths(baseDirectory: Self.repository, outputDirectory: output))
        let loaded = try engine.load(Self.repository.appendingPathComponent("workflows/esrgan-tiny.json"))
        XCTAssertEqual(engine.validate(loaded).errors.map { "\($0)" }, [])
    }

    func run(budget: Int) async throws -> (failure: String?, files: [URL]) {
        let engine = try Engine(
            paths: ModelPaths(baseDirectory: Self.repository, outputDirectory: output),
            settings: BuiltinNodeSettings(memoryBudgetBytes: budget))
        let b = GraphBuilder()
        let image = b.add("EmptyImage", ["width": 560, "height": 16, "batch_size": 1, "color": 0x3080C0])
        let model = b.add("UpscaleModelLoader", ["model_name": "latentflow-tiny-esrgan-x4.safetensors"])
        let upscaled = b.add("ImageUpscaleWithModel", ["upscale_model": model.out(0), "image": image.out(0)])
        b.add("SaveImage", ["images": upscaled.out(0), "filename_prefix": "up"])
        do {
            let result = try await engine.executor.run(b.workflow)
            return (nil, engine.writtenFiles(result))
        } catch let failure as NodeExecutionFailure {
            return (failure.description, [])
        }
    }

    func testUpscalesInSmallerTilesUnderATightBudgetAndFailsClearlyBelow128() async throws {
        // 560x16 x4: the output and two accumulators take 5.2 MB; tiles of 512 (16x512 pixels)
        // 13.6 MB more, tiles of 256 6.8 MB, tiles of 128 3.4 MB.
        let (failure, files) = try await run(budget: 15 << 20)
        XCTAssertNil(failure)
        let written = try ImageCodec.read(path: try XCTUnwrap(files.first).path)
        XCTAssertEqual([written.width, written.height, written.channels], [2240, 64, 3])
        let (tooSmall, _) = try await run(budget: 7 << 20)
        let message = try XCTUnwrap(tooSmall)
        XCTAssertTrue(message.contains("ImageUpscaleWithModel") || message.contains("does not fit"), message)
        XCTAssertTrue(message.contains("tiles of 128"), message)
    }
}
