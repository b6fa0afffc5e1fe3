import Foundation
import LatentflowGraph
import LatentflowIO
import LatentflowModels
import LatentflowTensor
import XCTest

@testable import LatentflowNodes

/// The UNet patch nodes and LoraSave in a KSampler run on the tiny SD1.5 model. The patch
/// functions' numerics are checked against ComfyUI transcriptions in LatentflowModelsTests'
/// UNetPatchTests; here: settings that make a patch the identity reproduce the unpatched latent
/// exactly, the defaults change it, and files go through their folders.
final class UNetPatchNodeTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let checkpoint = try! StableDiffusionCheckpoint.load(
        path: repository.appendingPathComponent("models/checkpoints/latentflow-tiny-sd15.safetensors").path)
    static let model = DiffusionModel(checkpoint)
    var base: URL!

    override func setUpWithError() throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("unet-patch-\(UUID())")
        let folder = base.appendingPathComponent("models/hypernetworks")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let fixture = Self.repository.appendingPathComponent(
            "Tests/LatentflowModelsTests/Fixtures/hypernetwork_tiny.pt")
        try FileManager.default.copyItem(at: fixture, to: folder.appendingPathComponent("tiny.pt"))
        try FileManager.default.createDirectory(
            at: base.appendingPathComponent("output"), withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: base) }

    func context(_ classType: String) throws -> ExecutionContext {
        let paths = try ModelPaths(baseDirectory: base)
        return ExecutionContext(
            nodeId: "1", classType: classType,
            environment: ExecutionEnvironment(
                files: paths, outputDirectory: paths.outputDirectory, services: [BuiltinNodeSettings()]))
    }

    func patched<N: Node>(_ node: N, _ values: [String: any Sendable]) async throws -> DiffusionModel {
        var inputs = values
        inputs["model"] = Self.model
        let out = try await node.execute(NodeInputs(inputs), context: try context(N.schema.classType))
        return try XCTUnwrap(out.values.first as? DiffusionModel)
    }

    /// euler / normal, 3 steps, cfg 3, seed 7 on a 16x12 latent (odd sizes after two halvings).
    func sample(_ model: DiffusionModel) async throws -> Tensor {
        let text = Self.checkpoint.textModel!
        let encoder = WeightedPromptEncoder(model: text, tokenizer: .shared, lastLayer: -1)
        let positive = Conditioning([.init(embedding: try encoder.encode("a red circle"))])
        let negative = Conditioning([.init(embedding: try encoder.encode(""))])
        let out = try await KSampler().execute(
            NodeInputs([
                "model": model, "seed": 7, "steps": 3, "cfg": 3.0, "sampler_name": "euler", "scheduler": "normal",
                "positive": positive, "negative": negative, "latent_image": Latent(Tensor(shape: [1, 4, 16, 12])),
                "denoise": 1.0,
            ]), context: try context("KSampler"))
        return try XCTUnwrap(out.values[0] as? Latent).samples
    }

    func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
        XCTAssertEqual(a.shape, b.shape)
        return zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? .infinity
    }

    func assertIdentityAndChange(
        _ name: String, identity: DiffusionModel, changed: DiffusionModel, file: StaticString = #filePath,
        line: UInt = #line
    ) async throws {
        let plain = try await sample(Self.model)
        let same = try await sample(identity)
        XCTAssertEqual(maxDifference(same, plain), 0, "\(name): identity settings", file: file, line: line)
        let different = try await sample(changed)
        let change = maxDifference(different, plain)
        XCTAssertTrue(different.scalars.allSatisfy(\.isFinite), name, file: file, line: line)
        XCTAssertGreaterThan(change, 1e-3, "\(name): the patch changes the latent", file: file, line: line)
        print("\(name): max change of the sampled latent \(change)")
    }

    func testFreeU() async throws {
        for node in [FreeU() as any Node, FreeU_V2()] {
            let identity = try await patched(node, ["b1": 1.0, "b2": 1.0, "s1": 1.0, "s2": 1.0])
            let defaults = try await patched(node, ["b1": 1.3, "b2": 1.4, "s1": 0.9, "s2": 0.2])
            try await assertIdentityAndChange(type(of: node).schema.classType, identity: identity, changed: defaults)
        }
    }

    func testDeepShrink() async throws {
        var values: [String: any Sendable] = [
            "block_number": 3, "downscale_factor": 1.0, "start_percent": 0.0, "end_percent": 0.35,
            "downscale_after_skip": true, "downscale_method": "bicubic", "upscale_method": "bicubic",
        ]
        let identity = try await patched(PatchModelAddDownscale(), values)
        values["downscale_factor"] = 2.0
        try await assertIdentityAndChange(
            "PatchModelAddDownscale", identity: identity, changed: try await patched(PatchModelAddDownscale(), values))
        values["downscale_after_skip"] = false
        values["block_number"] = 1
        let before = try await sample(try await patched(PatchModelAddDownscale(), values))
        XCTAssertTrue(before.scalars.allSatisfy(\.isFinite))
        // bislerp, as ComfyUI's common_upscale offers it, both ways.
        values["downscale_method"] = "bislerp"
        values["upscale_method"] = "bislerp"
        let bislerped = try await sample(try await patched(PatchModelAddDownscale(), values))
        XCTAssertTrue(bislerped.scalars.allSatisfy(\.isFinite))
        XCTAssertNotEqual(bislerped, before)
    }

    func testHyperTile() async throws {
        // The tiny model's 16x12 latent: a 2048 px tile covers it whole (one tile); 32 px tiles split it.
        let identity = try await patched(
            HyperTile(), ["tile_size": 2048, "swap_size": 1, "max_depth": 0, "scale_depth": false])
        let tiled = try await patched(
            HyperTile(), ["tile_size": 32, "swap_size": 1, "max_depth": 1, "scale_depth": false])
        try await assertIdentityAndChange("HyperTile", identity: identity, changed: tiled)
    }

    func testHypernetworkLoader() async throws {
        let none = try await patched(HypernetworkLoader(), ["hypernetwork_name": "tiny.pt", "strength": 0.0])
        let applied = try await patched(HypernetworkLoader(), ["hypernetwork_name": "tiny.pt", "strength": 1.0])
        try await assertIdentityAndChange("HypernetworkLoader", identity: none, changed: applied)
        do {
            _ = try await patched(HypernetworkLoader(), ["hypernetwork_name": "missing.pt", "strength": 1.0])
            XCTFail("a missing file must fail")
        } catch {
            XCTAssertTrue("\(error)".contains("missing.pt"), "\(error)")
        }
    }

    /// LoraSave of (tiny − inpainting tiny) at full rank writes ComfyUI's keys in float16 with no
    /// metadata; LoraLoader reads every pair back, and applied to the second model it moves each
    /// 2-D weight most of the way to the first's (the 0.99-quantile clamp keeps it from arriving).
    func testLoraSaveExtractsWhatLoraLoaderApplies() async throws {
        let second = DiffusionModel(
            try StableDiffusionCheckpoint.load(
                path: Self.repository.appendingPathComponent(
                    "models/checkpoints/latentflow-tiny-sd15-inpainting.safetensors"
                ).path))
        var diff = Self.model
        for (key, weight) in Self.model.weights {
            // conv_in (4 against 9 input channels) is left out: no difference fits the second model.
            guard let other = second.weights[key], other.shape == weight.shape else {
                diff.weights[key] = nil
                continue
            }
            diff.weights[key] = Parameter(try weight.tensor().adding(other.tensor().scaled(by: -1)))
        }
        let out = try await LoraSave().execute(
            NodeInputs([
                "filename_prefix": "loras/extracted", "rank": 64, "lora_type": "standard", "bias_diff": true,
                "model_diff": diff,
            ]), context: try context("LoraSave"))
        let url = try XCTUnwrap(out.files.first)
        XCTAssertEqual(url.lastPathComponent, "extracted_00001_.safetensors")
        let file = try SafeTensorsFile(path: url.path)
        XCTAssertTrue(file.metadata.isEmpty, "\(file.metadata)")
        let up = "diffusion_model.input_blocks.1.1.proj_in.lora_up.weight"
        XCTAssertEqual(try file.entry(up).dtype, .float16)
        XCTAssertTrue(file.keys.contains("diffusion_model.out.0.diff"))
        XCTAssertTrue(file.keys.contains("diffusion_model.out.0.diff_b"))

        let lora = try LoRAFile(path: url.path)
        XCTAssertEqual(lora.unrecognizedKeys, [])

        // Back through LoraLoaderModelOnly onto the second model: the `.diff`/`.diff_b` tensors restore the
        // first model's norms and biases up to float16 rounding, the factors most of each matrix.
        let loras = base.appendingPathComponent("models/loras")
        try FileManager.default.createDirectory(at: loras, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: url, to: loras.appendingPathComponent("extracted.safetensors"))
        let loaded = try await LoraLoaderModelOnly().execute(
            NodeInputs(["model": second, "lora_name": "extracted.safetensors", "strength_model": 1.0]),
            context: try context("LoraLoaderModelOnly"))
        let restored = try XCTUnwrap(loaded.values.first as? DiffusionModel)
        var worstVector: Float = 0
        for key in ["out.0.weight", "out.0.bias", "input_blocks.1.0.emb_layers.1.bias"] {
            let found = try XCTUnwrap(restored.weights[key]).tensor(), expected = Self.model.weights[key]!.tensor()
            worstVector = max(worstVector, zip(found.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? 0)
        }
        XCTAssertLessThan(worstVector, 2e-3, "1-D weights and biases through .diff / .diff_b")
        let proj = "input_blocks.1.1.proj_in.weight"
        let truth = try XCTUnwrap(diff.weights[proj]).tensor()
        let residual = try Self.model.weights[proj]!.tensor().adding(restored.weights[proj]!.tensor().scaled(by: -1))
        let ratio = (residual.scalars.map { $0 * $0 }.reduce(0, +) / truth.scalars.map { $0 * $0 }.reduce(0, +))
            .squareRoot()
        XCTAssertLessThan(ratio, 0.2, "relative residual of \(proj)")
        print("LoraSave full rank: relative residual of \(proj) \(ratio), worst 1-D difference \(worstVector)")
    }
}
