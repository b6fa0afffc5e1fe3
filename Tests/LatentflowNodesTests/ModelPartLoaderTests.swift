import Foundation
import Latentflow
import LatentflowGraph
import LatentflowIO
import LatentflowModels
import LatentflowTensor
import XCTest

@testable import LatentflowNodes

/// UNETLoader, CLIPLoader and CheckpointLoader on files cut from the tiny checkpoint in the
/// layouts ComfyUI reads (a bare UNet as ModelSave writes it, one still under
/// `model.diffusion_model.`, a `text_model.*` text encoder as CLIPSave writes it): each must give
/// the models CheckpointLoaderSimple gives, weight for weight.
final class ModelPartLoaderTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let checkpointPath = repository.appendingPathComponent("models/checkpoints/latentflow-tiny-sd15.safetensors")
    static let models = try! StableDiffusionCheckpoint.load(path: checkpointPath.path)

    var base: URL!

    override func setUpWithError() throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("latentflow-parts-\(UUID().uuidString)")
        for folder in ["diffusion_models", "text_encoders", "checkpoints", "configs"] {
            try FileManager.default.createDirectory(
                at: base.appendingPathComponent("models/\(folder)"), withIntermediateDirectories: true)
        }
        try FileManager.default.createSymbolicLink(
            at: base.appendingPathComponent("models/checkpoints/tiny.safetensors"),
            withDestinationURL: Self.checkpointPath)
        let file = try SafeTensorsFile(path: Self.checkpointPath.path)
        func write(_ name: String, rename: (String) -> String?) throws {
            let items = try file.keys.sorted().compactMap { key in
                try rename(key).map { SafeTensorsWriter.Item($0, try file.tensor(key), dtype: .float16) }
            }
            try SafeTensorsWriter.write(items, to: base.appendingPathComponent("models/" + name))
        }
        let unet = "model.diffusion_model.", clip = "cond_stage_model.transformer."
        try write("diffusion_models/bare.safetensors") { $0.hasPrefix(unet) ? String($0.dropFirst(unet.count)) : nil }
        try write("diffusion_models/prefixed.safetensors") { $0 }  // the whole checkpoint: only the UNet is read
        try write("text_encoders/unet.safetensors") { $0.hasPrefix(unet) ? String($0.dropFirst(unet.count)) : nil }
        try write("text_encoders/clip_l.safetensors") { $0.hasPrefix(clip) ? String($0.dropFirst(clip.count)) : nil }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: base) }

    func run<N: Node>(_ node: N, _ values: [String: any Sendable]) async throws -> NodeOutputs {
        let environment = ExecutionEnvironment(
            files: try ModelPaths(baseDirectory: base), services: [BuiltinNodeSettings()])
        let context = ExecutionContext(nodeId: "1", classType: N.schema.classType, environment: environment)
        return try await node.execute(NodeInputs(values), context: context)
    }

    func assertSameWeights(
        _ a: [String: Parameter], _ b: [String: Parameter], file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(Set(a.keys), Set(b.keys), file: file, line: line)
        for (key, weight) in a {
            XCTAssertEqual(weight.tensor().scalars, b[key]?.tensor().scalars, key, file: file, line: line)
        }
    }

    func testUNETLoaderReadsBareAndPrefixedFiles() async throws {
        for name in ["bare.safetensors", "prefixed.safetensors"] {
            let model =
                try await run(UNETLoader(), ["unet_name": name, "weight_dtype": "default"]).values[0]
                as! DiffusionModel
            XCTAssertEqual(model.unet.config, Self.models.unet.config, name)
            assertSameWeights(model.weights, Self.models.unetWeights)
        }
    }

    func testUNETLoaderRefusesFP8Clearly() async throws {
        do {
            _ = try await run(UNETLoader(), ["unet_name": "bare.safetensors", "weight_dtype": "fp8_e4m3fn"])
            XCTFail("expected an error")
        } catch { XCTAssertTrue("\(error)".contains("fp8_e4m3fn"), "\(error)") }
    }

    func testCLIPLoaderReadsATextModelFile() async throws {
        let clip =
            try await run(CLIPLoader(), ["clip_name": "clip_l.safetensors", "type": "stable_diffusion"])
            .values[0] as! TextEncoder
        XCTAssertEqual(clip.model.config, Self.models.textModel?.config)
        XCTAssertEqual(clip.lastLayer, -1)
        XCTAssertTrue(clip.weightsAreFloat16)
        assertSameWeights(clip.weights, Self.models.textWeights)
        do {
            _ = try await run(CLIPLoader(), ["clip_name": "clip_l.safetensors", "type": "sd3"])
            XCTFail("expected an error")
        } catch { XCTAssertTrue("\(error)".contains("sd3"), "\(error)") }
    }

    func testCLIPLoaderRefusesAUNetFile() async throws {
        do {
            _ = try await run(CLIPLoader(), ["clip_name": "unet.safetensors", "type": "stable_diffusion"])
            XCTFail("expected an error")
        } catch { XCTAssertTrue("\(error)".contains("no CLIP text model"), "\(error)") }
    }

    /// ComfyUI's `load_checkpoint`: v-prediction from `parameterization: "v"`, the CLIP layer from
    /// `cond_stage_config.params.layer_idx`.
    func testCheckpointLoaderAppliesItsConfig() async throws {
        let yaml = """
            model:
              target: ldm.models.diffusion.ddpm.LatentDiffusion
              params:
                parameterization: "v"
                cond_stage_config:
                  target: ldm.modules.encoders.modules.FrozenOpenCLIPEmbedder
                  params:
                    freeze: True
                    layer_idx: -2
            """
        try yaml.write(to: base.appendingPathComponent("models/configs/v.yaml"), atomically: true, encoding: .utf8)
        let out = try await run(CheckpointLoader(), ["config_name": "v.yaml", "ckpt_name": "tiny.safetensors"])
        let model = out.values[0] as! DiffusionModel, clip = out.values[1] as! TextEncoder
        XCTAssertEqual(model.sampling.parameterization, .vPrediction)
        XCTAssertEqual(clip.lastLayer, -2)
        XCTAssertTrue(out.values[2] is VAEModel)
        XCTAssertEqual(try ModelPaths(baseDirectory: base).files(in: "configs"), ["v.yaml"])
    }
}
