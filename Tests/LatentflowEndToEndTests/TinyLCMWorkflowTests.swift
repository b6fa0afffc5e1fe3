import Foundation
import Latentflow
import LatentflowGraph
import LatentflowIO
import XCTest

/// The embedded tiny checkpoint through real workflows: ready-to-run files, caching across runs,
/// and ComfyUI's own SD1.5 templates.
final class TinyLCMWorkflowTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var output: URL!
    var engine: Engine!

    override func setUpWithError() throws {
        output = FileManager.default.temporaryDirectory.appendingPathComponent("lf-e2e-\(UUID().uuidString)")
        engine = try Engine(paths: ModelPaths(baseDirectory: Self.repository, outputDirectory: output))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: output) }

    func load(_ path: String, size: Int = 64) throws -> LoadedWorkflow {
        var loaded = try engine.load(Self.repository.appendingPathComponent(path))
        try loaded.apply(overrides: ["5.width=\(size)", "5.height=\(size)"])
        return loaded
    }

    func testLCMWorkflowWritesAPNGComfyUICanLoad() async throws {
        let result = try await engine.run(try load("workflows/lcm-tiny.json"))
        let files = engine.writtenFiles(result)
        XCTAssertEqual(files.count, 1)
        let image = try ImageCodec.read(path: files[0].path)
        XCTAssertEqual([image.width, image.height, image.channels], [64, 64, 3])
        let prompt = try JSONValue.parse(XCTUnwrap(image.text("prompt")))
        XCTAssertEqual(prompt["6"]?["class_type"], .string("KSampler"))
        XCTAssertEqual(try engine.loader.load(Data(contentsOf: files[0]), source: "png").workflow["6"]?.input("sampler_name"),
                       .constant(.string("lcm")))
        // Not a flat image: the decoder produced structure.
        guard case .uint8(let pixels) = image.samples else { return XCTFail("8-bit expected") }
        XCTAssertGreaterThan(Set(pixels).count, 50)
    }

    /// A new seed re-runs sampling, decoding and saving only: the checkpoint is not reloaded
    /// and the prompts are not re-encoded.
    func testChangingTheSeedReusesModelsAndPrompts() async throws {
        var loaded = try load("workflows/lcm-tiny.json")
        let first = try await engine.run(loaded)
        XCTAssertEqual(Set(first.executed), ["1", "2", "3", "4", "5", "6", "7", "8"])
        try loaded.apply(overrides: ["6.seed=43"])
        let second = try await engine.run(loaded)
        XCTAssertEqual(Set(second.executed), ["6", "7", "8"])
        let files = try FileManager.default.contentsOfDirectory(atPath: output.path).sorted()
        XCTAssertEqual(files, ["lcm-tiny_00001_.png", "lcm-tiny_00002_.png"])
        let a = try Data(contentsOf: output.appendingPathComponent(files[0])), b = try Data(contentsOf: output.appendingPathComponent(files[1]))
        XCTAssertNotEqual(a, b, "another seed, another image")
    }

    /// Cancelling between sampler steps stops the run; nothing is written.
    func testCancellationBetweenSteps() async throws {
        let flag = CancellationFlag()
        do {
            _ = try await engine.run(try load("workflows/lcm-tiny.json"), cancellation: flag) { event in
                if case .progress(_, let step, _) = event, step == 2 { flag.cancel() }
            }
            XCTFail("expected cancellation")
        } catch is ExecutionCancelled {}
        let written = (try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? []
        XCTAssertEqual(written, [])
    }

    /// ComfyUI's SD1.5 UI-format templates convert and validate with the tiny model substituted
    /// for the checkpoints they name; those needing nodes or samplers Latentflow lacks say which.
    func testComfyUITemplates() throws {
        let templates = Self.repository.deletingLastPathComponent().appendingPathComponent("shared/comfyui-templates")
        guard FileManager.default.fileExists(atPath: templates.path) else {
            throw XCTSkip("the ComfyUI templates are not beside this checkout (../shared/comfyui-templates)")
        }
        for name in ["default", "image2image"] {
            var text = try String(contentsOf: templates.appendingPathComponent("\(name).json"), encoding: .utf8)
            for checkpoint in ["v1-5-pruned-emaonly-fp16.safetensors", "v1-5-pruned-emaonly.safetensors"] {
                text = text.replacingOccurrences(of: checkpoint, with: "latentflow-tiny-sd15.safetensors")
            }
            let loaded = try engine.loader.load(Data(text.utf8), source: name)
            let report = engine.validate(loaded)
            let unexpected = report.errors.filter { !($0.location?.input == "image" && $0.location?.classType == "LoadImage") }
            XCTAssertEqual(unexpected.map(\.description), [], name)
        }
    }
}
