import Foundation
import Latentflow
import XCTest

/// `workflows/taesd-tiny.json` (TAESD picked by name in VAELoader) and the step previews: the
/// engine reports a decodable JPEG after every sampler step, with latent2rgb and with TAESD, and
/// `latentflow run --preview DIR` writes them.
final class StepPreviewTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    var output: URL!

    override func setUpWithError() throws {
        output = FileManager.default.temporaryDirectory.appendingPathComponent("lf-preview-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: output) }

    func makeEngine(_ preview: PreviewSettings) throws -> Engine {
        try Engine(
            paths: ModelPaths(baseDirectory: Self.repository, outputDirectory: output),
            settings: BuiltinNodeSettings(preview: preview))
    }

    func load(_ engine: Engine, _ path: String) throws -> LoadedWorkflow {
        var loaded = try engine.load(Self.repository.appendingPathComponent(path))
        try loaded.apply(overrides: ["5.width=64", "5.height=64"])
        return loaded
    }

    func collectPreviews(_ method: PreviewMethod, size: Int = 512) async throws -> [(step: Int, image: RasterImage)] {
        let engine = try makeEngine(PreviewSettings(method: method, maxSize: size))
        let log = PreviewLog()
        _ = try await engine.run(try load(engine, "workflows/taesd-tiny.json")) { log.handle($0) }
        return try log.previews.map { (step: $0.step, image: try ImageCodec.decode($0.jpeg)) }
    }

    func testTAESDWorkflowWritesAnImage() async throws {
        let engine = try makeEngine(PreviewSettings())
        let result = try await engine.run(try load(engine, "workflows/taesd-tiny.json"))
        let files = engine.writtenFiles(result)
        XCTAssertEqual(files.count, 1)
        let image = try ImageCodec.read(path: files[0].path)
        XCTAssertEqual([image.width, image.height, image.channels], [64, 64, 3])
    }

    func testLatent2RGBPreviewsEveryStep() async throws {
        let previews = try await collectPreviews(.latent2rgb)
        XCTAssertEqual(previews.map(\.step), [1, 2, 3, 4])
        // An 8x8 latent's preview, scaled to fit 512 as ComfyUI's send_image scales it.
        for preview in previews { XCTAssertEqual([preview.image.width, preview.image.height], [512, 512]) }
    }

    func testTAESDPreviewsEveryStep() async throws {
        let previews = try await collectPreviews(.taesd, size: 64)
        XCTAssertEqual(previews.map(\.step), [1, 2, 3, 4])
        for preview in previews { XCTAssertEqual([preview.image.width, preview.image.height], [64, 64]) }
    }

    func testNoPreviewsByDefault() async throws {
        let previews = try await collectPreviews(.none)
        XCTAssertTrue(previews.isEmpty)
    }

    /// `latentflow run --preview DIR` (the built binary; skipped when it is not built).
    func testRunCommandWritesPreviewJPEGs() throws {
        let binary = Self.repository.appendingPathComponent(".build/debug/latentflow")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("\(binary.path) is not built (swift build --build-tests builds it)")
        }
        let previews = output.appendingPathComponent("previews")
        let process = Process()
        process.executableURL = binary
        process.currentDirectoryURL = Self.repository
        process.arguments = [
            "run", "workflows/lcm-tiny.json", "--set", "5.width=64", "--set", "5.height=64",
            "--output-dir", output.path, "--preview", previews.path, "--preview-every", "2",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        let names = try FileManager.default.contentsOfDirectory(atPath: previews.path).sorted()
        XCTAssertEqual(names, ["6_2.jpg", "6_4.jpg"])
        for name in names {
            let image = try ImageCodec.read(path: previews.appendingPathComponent(name).path)
            XCTAssertEqual([image.width, image.height], [512, 512])
        }
    }
}

/// Preview events gathered from the engine's callback.
final class PreviewLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [(step: Int, jpeg: Data)] = []
    func handle(_ event: ExecutionEvent) {
        guard case let .preview(_, step, _, jpeg) = event else { return }
        lock.withLock { stored.append((step: step, jpeg: jpeg)) }
    }
    var previews: [(step: Int, jpeg: Data)] { lock.withLock { stored } }
}
