import Foundation
import Latentflow
import LatentflowModels
import XCTest

/// `.ckpt`, `.pt` and `.bin` model files load as ComfyUI's `load_torch_file` loads them: each
/// pickled fixture (scripts/make_pickle_model_fixtures.py) holds the same float16 values as its
/// safetensors twin, so every workflow must give exactly the same image with either.
final class PickledModelFileTests: XCTestCase {
    static let fixtures = TinyLCMWorkflowTests.repository
        .appendingPathComponent("Tests/LatentflowEndToEndTests/Fixtures/pickles")
    static let tinyCheckpoint = TinyLCMWorkflowTests.repository
        .appendingPathComponent("models/checkpoints/latentflow-tiny-sd15.safetensors")
    var base: URL!

    /// A ComfyUI base folder holding each fixture beside its safetensors twin.
    override func setUpWithError() throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("lf-pickles-\(UUID().uuidString)")
        let repository = TinyLCMWorkflowTests.repository
        let files: [(String, URL)] = [
            ("checkpoints/latentflow-tiny-sd15.safetensors", Self.tinyCheckpoint),
            ("checkpoints/tiny-sd15.ckpt", Self.fixtures.appendingPathComponent("tiny-sd15.ckpt")),
            ("checkpoints/hostile.ckpt", Self.fixtures.appendingPathComponent("hostile.ckpt")),
            (
                "loras/latentflow-tiny-lora.safetensors",
                repository.appendingPathComponent("models/loras/latentflow-tiny-lora.safetensors")
            ),
            ("loras/tiny-lora.pt", Self.fixtures.appendingPathComponent("tiny-lora.pt")),
            ("embeddings/twin.safetensors", Self.fixtures.appendingPathComponent("embedding.safetensors")),
            ("embeddings/a1111.pt", Self.fixtures.appendingPathComponent("embedding-a1111.pt")),
            ("embeddings/plain.pt", Self.fixtures.appendingPathComponent("embedding-plain.pt")),
        ]
        for (name, source) in files {
            let target = base.appendingPathComponent("models/" + name)
            try FileManager.default.createDirectory(
                at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: source, to: target)
        }
        // Exists, but is neither safetensors nor a torch.save file.
        try Data("not a model".utf8).write(to: base.appendingPathComponent("models/embeddings/broken.pt"))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: base) }

    func testCheckpointWeightsEqualTheSafetensorsTwinInBothResidencies() throws {
        let reference = try StableDiffusionCheckpoint.load(path: Self.tinyCheckpoint.path)
        for residency in [WeightResidency.float32, .streamed] {
            let models = try StableDiffusionCheckpoint.load(
                path: Self.fixtures.appendingPathComponent("tiny-sd15.ckpt").path, residency: residency)
            for (name, weights, expected) in [
                ("unet", models.unetWeights, reference.unetWeights),
                ("text", models.textWeights, reference.textWeights),
            ] {
                XCTAssertEqual(Set(weights.keys), Set(expected.keys), name)
                for (key, parameter) in expected {
                    XCTAssertEqual(weights[key]?.tensor().scalars, parameter.tensor().scalars, "\(residency) \(key)")
                }
            }
        }
    }

    func testCkptCheckpointWritesTheSameImageInBothMemoryModes() async throws {
        let expected = try await pixels("workflows/lcm-tiny.json", [])
        let pickled = try await pixels("workflows/lcm-tiny.json", ["1.ckpt_name=tiny-sd15.ckpt"])
        let lowMemory = try await pixels("workflows/lcm-tiny.json", ["1.ckpt_name=tiny-sd15.ckpt"], lowMemory: true)
        XCTAssertEqual(pickled, expected)
        XCTAssertEqual(lowMemory, expected)
    }

    func testLegacyPtLoRAIsAppliedAsItsSafetensorsTwin() async throws {
        let expected = try await pixels("workflows/lcm-lora-tiny.json", [])
        let pickled = try await pixels("workflows/lcm-lora-tiny.json", ["9.lora_name=tiny-lora.pt"])
        let withoutLoRA = try await pixels("workflows/lcm-tiny.json", [])
        XCTAssertEqual(pickled, expected)
        XCTAssertNotEqual(withoutLoRA, expected, "the LoRA changes the image")
    }

    func testPtEmbeddingsAreAppliedAsTheirSafetensorsTwin() async throws {
        let prompt = "3.text=a photo of embedding:%@ fox"
        let log = WarningLog()
        let expected = try await pixels("workflows/lcm-tiny.json", [String(format: prompt, "twin")], log: log)
        for name in ["a1111", "plain", "a1111.pt"] {
            let pickled = try await pixels("workflows/lcm-tiny.json", [String(format: prompt, name)], log: log)
            XCTAssertEqual(pickled, expected, name)
        }
        XCTAssertEqual(log.messages, [])
        let without = try await pixels("workflows/lcm-tiny.json", ["3.text=a photo of fox"])
        XCTAssertNotEqual(without, expected, "the embedding changes the prompt")
    }

    func testUnreadableEmbeddingWarnsWithTheReason() async throws {
        let log = WarningLog()
        _ = try await pixels("workflows/lcm-tiny.json", ["3.text=a photo of embedding:broken fox"], log: log)
        XCTAssertEqual(log.messages.count, 1)
        let message = log.messages.first ?? ""
        XCTAssertTrue(message.contains("broken.pt") && message.contains("could not be read"), message)
        XCTAssertFalse(message.contains("does not exist"), message)
    }

    func testHostileCheckpointIsRefusedNamingTheFileTheGlobalAndTheNode() async throws {
        do {
            _ = try await pixels("workflows/lcm-tiny.json", ["1.ckpt_name=hostile.ckpt"])
            XCTFail("a checkpoint calling os.system was loaded")
        } catch {
            let message = "\(error)"
            XCTAssertTrue(message.contains("hostile.ckpt"), message)
            XCTAssertTrue(message.contains("'posix.system'") || message.contains("'os.system'"), message)
            XCTAssertTrue(message.contains("node 1 (CheckpointLoaderSimple"), message)
            XCTAssertFalse(message.lowercased().contains("safetensors header"), message)
        }
    }

    /// The 8-bit pixels of the one image `workflow` writes at 64x64 in one step with `overrides`.
    private func pixels(
        _ workflow: String, _ overrides: [String], lowMemory: Bool = false,
        log: WarningLog? = nil
    ) async throws -> [UInt8] {
        let output = base.appendingPathComponent("output-\(UUID().uuidString)")
        let engine = try Engine(paths: ModelPaths(baseDirectory: base, outputDirectory: output), lowMemory: lowMemory)
        var loaded = try engine.load(TinyLCMWorkflowTests.repository.appendingPathComponent(workflow))
        try loaded.apply(overrides: ["5.width=64", "5.height=64", "6.steps=1"] + overrides)
        let result = try await engine.run(loaded) { event in
            if case let .warning(_, message) = event { log?.append(message) }
        }
        let files = engine.writtenFiles(result)
        XCTAssertEqual(files.count, 1)
        guard case let .uint8(pixels) = try ImageCodec.read(path: try XCTUnwrap(files.first).path).samples else {
            XCTFail("8-bit image expected")
            return []
        }
        return pixels
    }
}

/// Warnings a run reported, collected from its (concurrent) event stream.
final class WarningLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []

    var messages: [String] { lock.withLock { stored } }

    func append(_ message: String) { lock.withLock { stored.append(message) } }
}
