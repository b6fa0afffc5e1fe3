import Foundation
import LatentflowGraph
import LatentflowIO
import LatentflowModels
import LatentflowTensor
import LatentflowTestSupport
import XCTest

@testable import LatentflowNodes

/// unCLIPCheckpointLoader against ComfyUI v0.3.64 (scripts/make_unclip_checkpoint_fixtures.py): a
/// tiny SD2.1-unCLIP-layout single file (the tiny SD1.5 checkpoint, unet_adm's `label_emb.*`, and the
/// fixture's OpenCLIP-layout image tower under `embedder.model.visual.` with the noise augmentor's
/// buffers), put together here as the script put it together. ComfyUI's loader, CLIPVisionEncode,
/// unCLIPConditioning and KSampler ran on it. Bounds: image embeds relative error 1e-5, latent PSNR 90 dB.
final class UnCLIPCheckpointLoaderTests: XCTestCase {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("unclip-loader-\(UUID().uuidString)")
    lazy var environment = ExecutionEnvironment(
        files: try! ModelPaths(baseDirectory: base), services: [BuiltinNodeSettings()])
    let reference = ControlNetNodeTests.fixture("unclip_checkpoint")

    override func setUpWithError() throws {
        let folder = base.appendingPathComponent("models/checkpoints")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let repository = ControlNetNodeTests.repository
        let tiny = try SafeTensorsFile(
            path: repository.appendingPathComponent("models/checkpoints/latentflow-tiny-sd15.safetensors").path)
        let adm = try SafeTensorsFile(
            path: repository.appendingPathComponent("Tests/LatentflowModelsTests/Fixtures/unet_adm.safetensors").path)
        var tensors: [String: Tensor] = [:]
        for key in tiny.keys { tensors[key] = try tiny.tensor(key) }
        for key in adm.keys where key.hasPrefix("model.") { tensors[key] = try adm.tensor(key) }
        for key in reference.keys where key.hasPrefix("file.") {
            tensors[String(key.dropFirst("file.".count))] = try reference.tensor(key)
        }
        try write(tensors, "tiny-unclip.safetensors")
        // Broken variants: no tower at all, and a tower with a key OpenCLIP's layout does not have.
        try write(tensors.filter { !$0.key.hasPrefix("embedder.") }, "no-tower.safetensors")
        // The tower alone as a standalone OpenCLIP-layout file (`visual.*`), for CLIPVisionLoader.
        let visionFolder = base.appendingPathComponent("models/clip_vision")
        try FileManager.default.createDirectory(at: visionFolder, withIntermediateDirectories: true)
        let tower = "embedder.model.visual."
        try SafeTensorsWriter.write(
            tensors.keys.filter { $0.hasPrefix(tower) }.sorted().map {
                SafeTensorsWriter.Item("visual." + $0.dropFirst(tower.count), tensors[$0]!)
            }, to: visionFolder.appendingPathComponent("tiny-openclip-vision.safetensors"))
        var extra = tensors
        extra["embedder.model.visual.attnpool.weight"] = Tensor(shape: [2])
        try write(extra, "extra-key.safetensors")
    }

    func write(_ tensors: [String: Tensor], _ name: String) throws {
        try SafeTensorsWriter.write(
            tensors.keys.sorted().map { SafeTensorsWriter.Item($0, tensors[$0]!) },
            to: base.appendingPathComponent("models/checkpoints/" + name))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: base) }

    func run<N: Node>(_ node: N, _ values: [String: any Sendable]) async throws -> NodeOutputs {
        let context = ExecutionContext(nodeId: "1", classType: N.schema.classType, environment: environment)
        return try await node.execute(NodeInputs(values), context: context)
    }

    func testSchemaMatchesComfyUI() {
        let schema = UnCLIPCheckpointLoader.schema
        XCTAssertEqual(schema.classType, "unCLIPCheckpointLoader")
        XCTAssertEqual(schema.category, "loaders")
        XCTAssertEqual(schema.inputs.map(\.name), ["ckpt_name"])
        XCTAssertEqual(schema.outputs.map(\.name), ["MODEL", "CLIP", "VAE", "CLIP_VISION"])
        XCTAssertEqual(schema.outputs.map(\.type.name), ["MODEL", "CLIP", "VAE", "CLIP_VISION"])
    }

    func testEmbedsAndSamplingMatchComfyUI() async throws {
        let loaded = try await run(UnCLIPCheckpointLoader(), ["ckpt_name": "tiny-unclip.safetensors"])
        XCTAssertEqual(loaded.values.count, 4)
        let model = try XCTUnwrap(loaded.values[0] as? DiffusionModel)
        XCTAssertNotNil(loaded.values[1] as? TextEncoder)
        XCTAssertNotNil(loaded.values[2] as? VAEModel)
        let vision = try XCTUnwrap(loaded.values[3] as? CLIPVision)
        XCTAssertEqual(vision.model.config.layers, 2)
        XCTAssertEqual(vision.model.config.projectionWidth, 16)

        let encoded = try await run(
            CLIPVisionEncode(),
            ["clip_vision": vision, "image": ImageBatch(try reference.tensor("image")), "crop": "center"])
        let encoding = try XCTUnwrap(encoded.values[0] as? CLIPVisionEncoding)
        for (name, ours) in [
            ("image_embeds", encoding.output.imageEmbeds), ("last_hidden_state", encoding.output.lastHiddenState),
        ] {
            let expected = try reference.tensor(name)
            XCTAssertEqual(ours.shape, expected.shape, name)
            let scale = expected.scalars.map(abs).max() ?? 1
            let error = zip(ours.scalars, expected.scalars).map { abs($0 - $1) }.max()! / scale
            print("unCLIPCheckpointLoader + CLIPVisionEncode \(name) vs ComfyUI: max relative error \(error)")
            XCTAssertLessThan(error, 1e-5, name)
        }

        let positive = Conditioning([.init(embedding: try reference.tensor("positive"))])
        let conditioned = try await run(
            UnCLIPConditioning(),
            ["conditioning": positive, "clip_vision_output": encoding, "strength": 0.8, "noise_augmentation": 0.2])
        let unclip = try XCTUnwrap(conditioned.values[0] as? Conditioning)
        for (name, conditioning) in [("ksampler", unclip), ("ksampler.plain", positive)] {
            let out = try await run(
                KSampler(),
                [
                    "model": model, "seed": 11, "steps": 8, "cfg": 4.0, "sampler_name": "euler", "scheduler": "normal",
                    "positive": conditioning,
                    "negative": Conditioning([.init(embedding: try reference.tensor("negative"))]),
                    "latent_image": Latent(Tensor(shape: [1, 4, 8, 8])), "denoise": 1.0,
                ])
            let samples = try XCTUnwrap(out.values[0] as? Latent).samples
            let figure = psnr(samples, reference: try reference.tensor(name))
            print("unCLIP checkpoint KSampler (\(name)) vs ComfyUI: PSNR \(figure) dB")
            XCTAssertGreaterThan(figure, 90, name)
            if name == "ksampler" {
                XCTAssertLessThan(psnr(samples, reference: try reference.tensor("ksampler.plain")), 60)
            }
        }
    }

    /// CLIPVisionLoader reads the same tower from an OpenCLIP-layout file, as ComfyUI's `clip_vision.load`.
    func testAStandaloneOpenCLIPTowerMatchesComfyUI() async throws {
        let loaded = try await run(CLIPVisionLoader(), ["clip_name": "tiny-openclip-vision.safetensors"])
        let vision = try XCTUnwrap(loaded.values[0] as? CLIPVision)
        let encoded = try await run(
            CLIPVisionEncode(),
            ["clip_vision": vision, "image": ImageBatch(try reference.tensor("image")), "crop": "center"])
        let embeds = try XCTUnwrap(encoded.values[0] as? CLIPVisionEncoding).output.imageEmbeds
        let expected = try reference.tensor("standalone.image_embeds")
        XCTAssertEqual(embeds.shape, expected.shape)
        let scale = expected.scalars.map(abs).max() ?? 1
        let error = zip(embeds.scalars, expected.scalars).map { abs($0 - $1) }.max()! / scale
        print(
            "CLIPVisionLoader (OpenCLIP layout) + CLIPVisionEncode image_embeds vs ComfyUI: max relative error \(error)"
        )
        XCTAssertLessThan(error, 1e-5)
    }

    func testACheckpointWithoutATowerIsRefusedByName() async throws {
        do {
            _ = try await run(UnCLIPCheckpointLoader(), ["ckpt_name": "no-tower.safetensors"])
            XCTFail("loaded a checkpoint without an image tower")
        } catch {
            XCTAssertTrue("\(error)".contains("no-tower.safetensors"), "\(error)")
            XCTAssertTrue("\(error)".contains("embedder.model.visual."), "\(error)")
        }
    }

    func testAnUnknownTowerKeyIsReportedByKey() async throws {
        do {
            _ = try await run(UnCLIPCheckpointLoader(), ["ckpt_name": "extra-key.safetensors"])
            XCTFail("loaded a tower with an unknown key")
        } catch {
            XCTAssertTrue("\(error)".contains("embedder.model.visual.attnpool.weight"), "\(error)")
            XCTAssertTrue("\(error)".contains("extra-key.safetensors"), "\(error)")
        }
    }
}
