import Foundation
import Latentflow
import XCTest

/// Guidance patches in real workflows on the embedded tiny checkpoint: LoRA + RescaleCFG +
/// CFGZeroStar compose on one loaded checkpoint, patching never changes the MODEL it was given,
/// and the order of a cfg function and a post-CFG function does not matter (ComfyUI applies the
/// cfg function first whatever the order the nodes ran in).
final class GuidanceWorkflowTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    var output: URL!
    var engine: Engine!

    override func setUpWithError() throws {
        output = FileManager.default.temporaryDirectory.appendingPathComponent("lf-guidance-\(UUID().uuidString)")
        engine = try Engine(paths: ModelPaths(baseDirectory: Self.repository, outputDirectory: output))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: output) }

    /// Checkpoint → LoRA → `patches` (node id → (class, model input, extra inputs)) → KSampler
    /// "patched"; the LoRA's MODEL also goes straight to KSampler "plain".
    func workflow(_ patches: [(id: String, node: String, extra: String)], last: String) throws -> LoadedWorkflow {
        var nodes = [
            #""1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "latentflow-tiny-sd15.safetensors"}}"#,
            #""9": {"class_type": "LoraLoader", "inputs": {"model": ["1", 0], "clip": ["1", 1], "lora_name": "latentflow-tiny-lora.safetensors", "strength_model": 0.8, "strength_clip": 0.8}}"#,
            #""3": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["9", 1], "text": "a red fox"}}"#,
            #""4": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["9", 1], "text": ""}}"#,
            #""5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}}"#,
        ]
        var model = "9"
        for patch in patches {
            nodes.append(
                #""\#(patch.id)": {"class_type": "\#(patch.node)", "inputs": {"model": ["\#(model)", 0]\#(patch.extra)}}"#
            )
            model = patch.id
        }
        for (id, source, prefix) in [("6", last, "patched"), ("12", "9", "plain")] {
            let decode = id == "6" ? "7" : "13", save = id == "6" ? "8" : "14"
            nodes.append(
                #""\#(id)": {"class_type": "KSampler", "inputs": {"model": ["\#(source)", 0], "seed": 7, "steps": 3, "cfg": 4.0, "sampler_name": "euler", "scheduler": "normal", "positive": ["3", 0], "negative": ["4", 0], "latent_image": ["5", 0], "denoise": 1.0}}"#
            )
            nodes.append(
                #""\#(decode)": {"class_type": "VAEDecode", "inputs": {"samples": ["\#(id)", 0], "vae": ["1", 2]}}"#)
            nodes.append(
                #""\#(save)": {"class_type": "SaveImage", "inputs": {"images": ["\#(decode)", 0], "filename_prefix": "\#(prefix)"}}"#
            )
        }
        return try engine.loader.load(Data(("{" + nodes.joined(separator: ",\n") + "}").utf8), source: "test")
    }

    func pixels(_ url: URL) throws -> RasterImage.Samples { try ImageCodec.read(path: url.path).samples }

    func testLoRARescaleCFGAndCFGZeroStarComposeOnOneLoadedCheckpoint() async throws {
        let rescale = (id: "10", node: "RescaleCFG", extra: #", "multiplier": 0.7"#)
        let zeroStar = (id: "11", node: "CFGZeroStar", extra: "")
        var loaded = try workflow([rescale, zeroStar], last: "11")
        let first = try await engine.run(loaded)
        XCTAssertEqual(Set(first.executed), ["1", "9", "3", "4", "5", "10", "11", "6", "7", "8", "12", "13", "14"])
        let firstFiles = engine.writtenFiles(first)
        let patched = try pixels(XCTUnwrap(firstFiles.first { $0.lastPathComponent.hasPrefix("patched") }))
        let plain = try pixels(XCTUnwrap(firstFiles.first { $0.lastPathComponent.hasPrefix("plain") }))
        XCTAssertNotEqual(patched, plain, "the guidance patches change the picture")

        // Another multiplier re-runs the patch, the patched sampler and what follows; the checkpoint,
        // the LoRA, the prompts and the plain branch come from the cache.
        try loaded.apply(overrides: ["10.multiplier=0.2"])
        let second = try await engine.run(loaded)
        XCTAssertEqual(Set(second.executed), ["10", "11", "6", "7", "8"])
        let secondPatched = try pixels(
            XCTUnwrap(engine.writtenFiles(second).first { $0.lastPathComponent.hasPrefix("patched_00002") }))
        XCTAssertNotEqual(secondPatched, patched)

        // The same two patches in the other order: the cfg function still runs before the post-CFG one.
        let reversed = try workflow(
            [
                (id: "11", node: "CFGZeroStar", extra: ""),
                (id: "10", node: "RescaleCFG", extra: #", "multiplier": 0.7"#),
            ],
            last: "10")
        let third = try await engine.run(reversed)
        let reversedPatched = try pixels(
            XCTUnwrap(engine.writtenFiles(third).first { $0.lastPathComponent.hasPrefix("patched_00003") }))
        XCTAssertEqual(reversedPatched, patched)
        // Patching never changed the LoRA's MODEL: its own branch gives the same picture.
        let reversedPlain = try pixels(
            XCTUnwrap(engine.writtenFiles(third).first { $0.lastPathComponent.hasPrefix("plain") }))
        XCTAssertEqual(reversedPlain, plain)
    }
}
