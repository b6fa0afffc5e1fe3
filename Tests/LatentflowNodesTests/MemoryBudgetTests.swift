import Foundation
import Latentflow
import LatentflowGraph
import LatentflowIO
import LatentflowNodes
import XCTest

/// Issue 24 item 7: in-range values that ask for terabytes fail the node with a clear message
/// (checked before allocating against the memory budget) instead of aborting the process.
final class MemoryBudgetTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    var base: URL!

    override func setUpWithError() throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("lf-budget-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: base.appendingPathComponent("input"), withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: base) }

    func engine(budget: Int, base: URL? = nil) throws -> Engine {
        try Engine(
            paths: ModelPaths(
                baseDirectory: base ?? self.base, outputDirectory: self.base.appendingPathComponent("out")),
            settings: BuiltinNodeSettings(memoryBudgetBytes: budget))
    }

    /// Runs the graph and returns the failure's message (nil when it ran) and the warnings.
    func run(_ b: GraphBuilder, _ engine: Engine) async throws -> (failure: String?, warnings: [String]) {
        let warnings = Warnings()
        do {
            _ = try await engine.executor.run(b.workflow) { event in
                if case .warning(_, let message) = event { warnings.append(message) }
            }
            return (nil, warnings.all)
        } catch let failure as NodeExecutionFailure {
            return (failure.description, warnings.all)
        }
    }

    func assertFails(
        _ b: GraphBuilder, budget: Int, _ expected: [String], file: StaticString = #filePath, line: UInt = #line
    )
        async throws
    {
        let (failure, _) = try await run(b, try engine(budget: budget))
        let message = try XCTUnwrap(failure, "expected a failure", file: file, line: line)
        for part in expected {
            XCTAssertTrue(message.contains(part), "'\(part)' not in: \(message)", file: file, line: line)
        }
    }

    func testEmptyImageBeyondTheBudgetFailsTheNode() async throws {
        let b = GraphBuilder()
        let image = b.add("EmptyImage", ["width": 16384, "height": 16384, "batch_size": 4096, "color": 0])
        b.add("PreviewImage", ["images": image.out(0)])
        try await assertFails(
            b, budget: 18 << 30,
            [
                "EmptyImage would need 12 TB for 4096 images of 16384x16384", "the memory budget is 18 GB",
                "--memory-budget",
            ])
    }

    func testEmptyLatentImageBeyondTheBudgetFailsTheNode() async throws {
        let b = GraphBuilder()
        let latent = b.add("EmptyLatentImage", ["width": 16384, "height": 16384, "batch_size": 4096])
        b.add("SaveLatent", ["samples": latent.out(0), "filename_prefix": "x"])
        try await assertFails(
            b, budget: 1 << 30, ["EmptyLatentImage would need 256 GB for 4096 latents of 16384x16384", "1.0 GB"])
    }

    func testImageScaleByChainStopsAtTheStepBeyondTheBudget() async throws {
        let b = GraphBuilder()
        let image = b.add("EmptyImage", ["width": 64, "height": 64, "batch_size": 1, "color": 0xFF0000])
        var last = image
        for _ in 0..<3 {
            last = b.add("ImageScaleBy", ["image": last.out(0), "upscale_method": "nearest-exact", "scale_by": 8.0])
        }
        b.add("PreviewImage", ["images": last.out(0)])
        try await assertFails(
            b, budget: 16 << 20, ["ImageScaleBy would need 192 MB for 1 image of 4096x4096", "16 MB"])
    }

    func testLatentUpscaleByAndRepeatLatentBatchBeyondTheBudget() async throws {
        let b = GraphBuilder()
        let latent = b.add("EmptyLatentImage", ["width": 512, "height": 512, "batch_size": 1])
        let up = b.add(
            "LatentUpscaleBy", ["samples": latent.out(0), "upscale_method": "nearest-exact", "scale_by": 8.0])
        b.add("SaveLatent", ["samples": up.out(0), "filename_prefix": "x"])
        try await assertFails(b, budget: 1 << 20, ["LatentUpscaleBy would need 4.0 MB for 1 latent of 4096x4096"])

        let r = GraphBuilder()
        let small = r.add("EmptyLatentImage", ["width": 1024, "height": 1024, "batch_size": 64])
        let repeated = r.add("RepeatLatentBatch", ["samples": small.out(0), "amount": 64])
        r.add("SaveLatent", ["samples": repeated.out(0), "filename_prefix": "x"])
        try await assertFails(
            r, budget: 256 << 20, ["RepeatLatentBatch would need 1.0 GB for 4096 latents of 1024x1024"])
    }

    /// Within the budget nothing changes.
    func testAllocationsWithinTheBudgetRun() async throws {
        let b = GraphBuilder()
        let image = b.add("EmptyImage", ["width": 64, "height": 64, "batch_size": 2, "color": 0])
        let scaled = b.add("ImageScaleBy", ["image": image.out(0), "upscale_method": "bilinear", "scale_by": 2.0])
        b.add("PreviewImage", ["images": scaled.out(0)])
        let (failure, _) = try await run(b, try engine(budget: 16 << 20))
        XCTAssertNil(failure)
    }

    func testSizesThatOverflowAreRefusedNotTrapped() throws {
        XCTAssertNil(MemoryBudget.product([Int.max, 2]))
        XCTAssertNil(MemoryBudget.tensorBytes([1 << 40, 1 << 30]))
        XCTAssertEqual(MemoryBudget.tensorBytes([2, 3]), 24)
        XCTAssertThrowsError(
            try BuiltinNodeSettings(memoryBudgetBytes: 1 << 30).checkAllocation(bytes: nil, what: "X", for: "y")
        ) { error in XCTAssertTrue("\(error)".contains("X would need more than"), "\(error)") }
    }

    /// The setting comes from `--memory-budget` / `LATENTFLOW_MEMORY_BUDGET`, else 75% of memory.
    func testTheBudgetIsASetting() throws {
        var flags = EngineConfiguration.Flags()
        XCTAssertEqual(
            try EngineConfiguration.resolve(flags, environment: [:]).memoryBudgetBytes, MemoryBudget.defaultBytes)
        XCTAssertGreaterThan(MemoryBudget.defaultBytes, 0)
        XCTAssertEqual(
            try EngineConfiguration.resolve(flags, environment: ["LATENTFLOW_MEMORY_BUDGET": "2G"]).nodeSettings
                .memoryBudgetBytes, 2 << 30)
        flags.memoryBudget = "512M"
        XCTAssertEqual(
            try EngineConfiguration.resolve(flags, environment: ["LATENTFLOW_MEMORY_BUDGET": "2G"]).memoryBudgetBytes,
            512 << 20)
        flags.memoryBudget = "lots"
        XCTAssertThrowsError(try EngineConfiguration.resolve(flags, environment: [:]))
    }

    /// A tiny positive denoise made KSampler schedule `Int(steps / denoise)` steps: 4e300 traps.
    func testTinyDenoiseFailsWithAClearMessage() async throws {
        let engine = try self.engine(budget: 1 << 30, base: Self.repository)
        var loaded = try engine.load(Self.repository.appendingPathComponent("workflows/lcm-tiny.json"))
        try loaded.apply(overrides: ["5.width=64", "5.height=64", "6.denoise=1e-300"])
        do {
            _ = try await engine.run(loaded)
            XCTFail("expected a failure")
        } catch let failure as NodeExecutionFailure {
            XCTAssertTrue(
                failure.description.contains("KSampler") && failure.description.contains("denoise 1e-300")
                    && failure.description.contains("at most 1000000"), failure.description)
        }
    }

    /// An image under one latent pixel (8x8) failed VAEEncode with "conv2d kernel 3x3 does not fit
    /// input [1, 3, 0, 0]"; 8 pixels still encode (to one latent pixel), as in ComfyUI.
    func testVAEEncodeOfATinyImageNamesTheNodeAndTheSize() async throws {
        let engine = try self.engine(budget: 1 << 30, base: Self.repository)
        for (node, size, fails) in [("VAEEncode", 4, true), ("VAEEncodeTiled", 4, true), ("VAEEncode", 8, false)] {
            let b = GraphBuilder()
            let checkpoint = b.add("CheckpointLoaderSimple", ["ckpt_name": "latentflow-tiny-sd15.safetensors"])
            let image = b.add("EmptyImage", ["width": size, "height": 64, "batch_size": 1, "color": 0x808080])
            var inputs: [String: (any GraphArgument)?] = ["pixels": image.out(0), "vae": checkpoint.out(2)]
            if node == "VAEEncodeTiled" {
                inputs.merge(["tile_size": 512, "overlap": 64, "temporal_size": 64, "temporal_overlap": 8]) { a, _ in a
                }
            }
            let encoded = b.add(node, inputs)
            b.add("SaveLatent", ["samples": encoded.out(0), "filename_prefix": "tiny"])
            let (failure, _) = try await run(b, engine)
            if fails {
                let message = try XCTUnwrap(failure, node)
                XCTAssertTrue(
                    message.contains("\(node) needs images of at least 8x8 pixels") && message.contains("is 4x64"),
                    message)
            } else {
                XCTAssertNil(failure)
            }
        }
    }

    /// LoadImage checks the header against the budget before decoding.
    func testLoadImageRefusesAHugePNGFromItsHeader() async throws {
        let png = try ImageHeaders.pngClaiming(width: 16384, height: 16384)
        try png.write(to: base.appendingPathComponent("input/huge.png"))
        let b = GraphBuilder()
        let image = b.add("LoadImage", ["image": "huge.png"])
        b.add("PreviewImage", ["images": image.out(0)])
        try await assertFails(
            b, budget: 1 << 30, ["LoadImage would need", "huge.png, a PNG image of 16384x16384", "1.0 GB"])
    }

    func testLoadImageWarnsAboutATruncatedJPEG() async throws {
        let jpeg = try ImageCodec.encodeJPEG(ImageHeaders.gradient(width: 64, height: 64))
        try jpeg.prefix(jpeg.count / 2).write(to: base.appendingPathComponent("input/cut.jpg"))
        let b = GraphBuilder()
        let image = b.add("LoadImage", ["image": "cut.jpg"])
        b.add("PreviewImage", ["images": image.out(0)])
        let (failure, warnings) = try await run(b, try engine(budget: 1 << 30))
        XCTAssertNil(failure)
        XCTAssertEqual(warnings.count, 1, "\(warnings)")
        XCTAssertTrue(warnings.first?.contains("cut.jpg") == true && warnings.first?.contains("truncated") == true)
    }
}

final class Warnings: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []
    func append(_ message: String) { lock.withLock { messages.append(message) } }
    var all: [String] { lock.withLock { messages } }
}

/// Small image files for the tests: a PNG whose header claims any size, a gradient.
enum ImageHeaders {
    static func gradient(width: Int, height: Int) -> RasterImage {
        var pixels: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width {
                pixels += [UInt8(x * 255 / max(1, width - 1)), UInt8(y * 255 / max(1, height - 1)), 128]
            }
        }
        return RasterImage(width: width, height: height, channels: 3, samples: .uint8(pixels))
    }

    /// A one-row PNG whose IHDR is patched (with a valid CRC) to claim `width` x `height`.
    static func pngClaiming(width: Int, height: Int) throws -> Data {
        var data = [UInt8](try ImageCodec.encodePNG(gradient(width: width, height: 1)))
        for (offset, value) in [(16, width), (20, height)] {
            for i in 0..<4 { data[offset + i] = UInt8((value >> (24 - 8 * i)) & 0xFF) }
        }
        let crc = crc32(data[12..<29])
        for i in 0..<4 { data[29 + i] = UInt8((crc >> (24 - 8 * UInt32(i))) & 0xFF) }
        return Data(data)
    }

    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
