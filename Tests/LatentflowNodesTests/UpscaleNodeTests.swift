import Foundation
import Latentflow
import LatentflowGraph
import LatentflowIO
import LatentflowModels
import LatentflowNodes
import LatentflowTensor
import XCTest

/// UpscaleModelLoader and ImageUpscaleWithModel on the tiny stand-in ESRGAN x4 of
/// `models/upscale_models`: ComfyUI's 512 tile halved while a tile would not fit the memory
/// budget (its out-of-memory fallback), a clear failure below 128, and clamped 4x images; and the
/// whole node against ComfyUI v0.3.64's own ImageUpscaleWithModel (two 512 tiles blended across a
/// 520-pixel width, scripts/make_upscale_fixtures.py). Bound: image PSNR >= 75 dB (peak 1).
final class UpscaleNodeTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    var output: URL!

    override func setUpWithError() throws {
        output = FileManager.default.temporaryDirectory.appendingPathComponent("lf-upscale-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: output) }

    func testImageUpscaleWithModelMatchesComfyUI() async throws {
        let reference = try SafeTensorsFile(
            path: Bundle.module.url(
                forResource: "upscale_node", withExtension: "safetensors", subdirectory: "Fixtures")!
                .path)
        let image = try reference.tensor("image")  // [1, 3, 520, 3]: ComfyUI tiles its width
        let context = ExecutionContext(nodeId: "1", classType: "test", environment: ExecutionEnvironment())
        for file in ["esrgan_x4_old.pth", "compact_x4.safetensors"] {
            let path = Self.repository.appendingPathComponent("Tests/LatentflowModelsTests/Fixtures/upscale/\(file)")
            let (network, bytes) = try UpscaleModelDetection.load(path: path.path)
            let out = try await ImageUpscaleWithModel().execute(
                NodeInputs([
                    "upscale_model": UpscaleModel(network: network, byteCount: bytes), "image": ImageBatch(image),
                ]),
                context: context)
            let pixels = try XCTUnwrap(out.values[0] as? ImageBatch).pixels
            let expected = try reference.tensor(String(file.prefix { $0 != "." }))  // float16, clamped
            XCTAssertEqual(pixels.shape, expected.shape, file)
            let mse =
                zip(pixels.scalars, expected.scalars).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
                / Double(expected.count)
            let psnr = 10 * log10(1 / max(mse, 1e-30))
            print("ImageUpscaleWithModel \(file) vs ComfyUI: PSNR \(psnr) dB")
            // 82-84 dB measured, the float16 storage's limit; a blend that drops one edge's ramp gives 51-57.
            XCTAssertGreaterThanOrEqual(psnr, 75, file)
        }
    }

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
