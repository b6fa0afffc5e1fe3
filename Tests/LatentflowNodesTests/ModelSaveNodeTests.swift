import Foundation
import Latentflow
import LatentflowGraph
import LatentflowIO
import LatentflowModels
import LatentflowTensor
import XCTest

@testable import LatentflowNodes

/// The save nodes write ComfyUI's key layout, names and metadata, and the files load back into
/// the same models (CheckpointLoaderSimple, UNETLoader, CLIPLoader, VAELoader).
/// `scripts/check_saved_models.py` checks the same layout with the `safetensors` package.
final class ModelSaveNodeTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let checkpointPath = repository.appendingPathComponent("models/checkpoints/latentflow-tiny-sd15.safetensors")

    var base: URL!
    var environment: ExecutionEnvironment!

    override func setUpWithError() throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("latentflow-save-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: base.appendingPathComponent("models/checkpoints"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: base.appendingPathComponent("models/checkpoints/tiny.safetensors"),
            withDestinationURL: Self.checkpointPath)
        let paths = try ModelPaths(baseDirectory: base)
        environment = ExecutionEnvironment(
            files: paths, outputDirectory: paths.outputDirectory, services: [BuiltinNodeSettings()])
        try FileManager.default.createDirectory(at: paths.outputDirectory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: base) }

    func run<N: Node>(_ node: N, _ values: [String: any Sendable]) async throws -> NodeOutputs {
        let context = ExecutionContext(
            nodeId: "1", classType: N.schema.classType, environment: environment,
            prompt: .object([("1", .object([("class_type", .string(N.schema.classType))]))]),
            extraPNGInfo: .object([("workflow", .object([("nodes", .array([]))]))]))
        return try await node.execute(NodeInputs(values), context: context)
    }

    func entry(_ file: SafeTensorsFile, _ key: String) -> SafeTensorsEntry? { file.entries.first { $0.key == key } }

    func testCheckpointSaveWritesComfyUILayoutThatLoadsBack() async throws {
        let loaded = try await run(CheckpointLoaderSimple(), ["ckpt_name": "tiny.safetensors"]).values
        let (model, clip, vae) = (loaded[0] as! DiffusionModel, loaded[1] as! TextEncoder, loaded[2] as! VAEModel)
        let out = try await run(
            CheckpointSave(), ["model": model, "clip": clip, "vae": vae, "filename_prefix": "checkpoints/ComfyUI"])
        let url = try XCTUnwrap(out.files.first)
        XCTAssertEqual(url.lastPathComponent, "ComfyUI_00001_.safetensors")
        XCTAssertEqual(url.deletingLastPathComponent().lastPathComponent, "checkpoints")
        let file = try SafeTensorsFile(path: url.path)
        XCTAssertEqual(file.metadata["modelspec.predict_key"], "epsilon")
        // json.dumps' spacing, as ComfyUI writes the prompt and workflow.
        XCTAssertEqual(file.metadata["prompt"], #"{"1": {"class_type": "CheckpointSave"}}"#)
        XCTAssertEqual(file.metadata["workflow"], #"{"nodes": []}"#)
        XCTAssertNotNil(entry(file, "cond_stage_model.transformer.text_model.final_layer_norm.weight"))
        XCTAssertEqual(entry(file, "cond_stage_model.transformer.text_model.final_layer_norm.weight")?.dtype, .float16)
        XCTAssertEqual(entry(file, "model.diffusion_model.out.2.weight")?.dtype, .float32)
        XCTAssertNotNil(entry(file, "first_stage_model.decoder.conv_out.weight"))

        let again = try StableDiffusionCheckpoint.load(path: url.path)
        for (key, weight) in model.weights {
            XCTAssertEqual(again.unetWeights[key]?.tensor().scalars, weight.tensor().scalars, key)
        }
        for (key, weight) in clip.weights where !key.hasSuffix("position_ids") {
            XCTAssertEqual(again.textWeights[key]?.tensor().scalars, weight.tensor().scalars, key)
        }
        for (key, weight) in vae.weights {
            XCTAssertEqual(again.vaeWeights[key]?.tensor().scalars, weight.tensor().scalars, key)
        }
        // A second save takes the next counter.
        let second = try await run(
            CheckpointSave(), ["model": model, "clip": clip, "vae": vae, "filename_prefix": "checkpoints/ComfyUI"])
        XCTAssertEqual(second.files.first?.lastPathComponent, "ComfyUI_00002_.safetensors")
    }

    func testPartSavesLoadBackThroughTheirLoaders() async throws {
        let loaded = try await run(CheckpointLoaderSimple(), ["ckpt_name": "tiny.safetensors"]).values
        let (model, clip, vae) = (loaded[0] as! DiffusionModel, loaded[1] as! TextEncoder, loaded[2] as! VAEModel)
        let unetSaved = try await run(ModelSave(), ["model": model, "filename_prefix": "diffusion_models/ComfyUI"])
        let clipSaved = try await run(CLIPSave(), ["clip": clip, "filename_prefix": "clip/ComfyUI"])
        let vaeSaved = try await run(VAESave(), ["vae": vae, "filename_prefix": "vae/ComfyUI_vae"])
        let unetURL = try XCTUnwrap(unetSaved.files.first)
        let clipURL = try XCTUnwrap(clipSaved.files.first)
        let vaeURL = try XCTUnwrap(vaeSaved.files.first)
        XCTAssertEqual(unetURL.lastPathComponent, "ComfyUI_00001_.safetensors")
        XCTAssertEqual(clipURL.lastPathComponent, "ComfyUI_clip_l_00001_.safetensors")
        XCTAssertEqual(vaeURL.lastPathComponent, "ComfyUI_vae_00001_.safetensors")
        XCTAssertEqual(try SafeTensorsFile(path: clipURL.path).metadata["format"], "pt")
        XCTAssertTrue(try SafeTensorsFile(path: clipURL.path).keys.allSatisfy { $0.hasPrefix("text_model.") })
        XCTAssertTrue(
            try SafeTensorsFile(path: vaeURL.path).keys.allSatisfy {
                $0.hasPrefix("encoder.") || $0.hasPrefix("decoder.") || $0.contains("quant_conv")
            })

        let unet = try StandaloneUNet.load(path: unetURL.path)
        XCTAssertEqual(unet.unet.config, model.unet.config)
        for (key, weight) in model.weights {
            XCTAssertEqual(unet.weights[key]?.tensor().scalars, weight.tensor().scalars, key)
        }
        let text = try StandaloneTextEncoder.load(path: clipURL.path)
        XCTAssertEqual(text.model.config, clip.model.config)
        for (key, weight) in clip.weights where !key.hasSuffix("position_ids") {
            XCTAssertEqual(text.weights[key]?.tensor().scalars, weight.tensor().scalars, key)
        }
        let (_, _, vaeWeights, _) = try StandaloneVAE.loadWithWeights(path: vaeURL.path)
        for (key, weight) in vae.weights {
            XCTAssertEqual(vaeWeights[key]?.tensor().scalars, weight.tensor().scalars, key)
        }
    }

    func testSavesRefuseToLeaveTheOutputFolder() async throws {
        let loaded = try await run(CheckpointLoaderSimple(), ["ckpt_name": "tiny.safetensors"]).values
        do {
            _ = try await run(ModelSave(), ["model": loaded[0], "filename_prefix": "../escape"])
            XCTFail("expected an error")
        } catch { XCTAssertTrue("\(error)".contains("outside the output folder"), "\(error)") }
    }
}
