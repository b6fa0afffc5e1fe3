import Foundation
import LatentflowIO
import LatentflowModels
import LatentflowTensor
import XCTest

/// SD2.x single-file checkpoints: OpenCLIP ViT-H's text tower under `cond_stage_model.model.`
/// (scripts/make_sd2_fixtures.py: a tiny OpenCLIP-layout tower against transformers' outputs, and
/// ComfyUI's SD2 tokenizer), beside the tiny SD2-style UNet and the tiny VAE.
final class SD2CheckpointTests: XCTestCase {
    static let openCLIP = try! SafeTensorsFile(path: ModelParityTests.fixture("tiny_openclip_text"))
    static let reference = try! SafeTensorsFile(path: ModelParityTests.fixture("tiny_openclip_reference"))

    /// A single-file SD2-layout checkpoint: the SD2-style inpainting UNet (LDM keys), the tiny
    /// VAE, the OpenCLIP text tower, with `extra` tensors added.
    static func writeCheckpoint(extra: [SafeTensorsWriter.Item] = [], skipping skipped: Set<String> = []) throws -> URL
    {
        let (_, unetWeights) = try DiffusersFolder.loadUNet(DiffusersFolderTests.folder("tiny_sd2_inpaint_unet"))
        var items = unetWeights.sorted { $0.key < $1.key }.map {
            SafeTensorsWriter.Item("model.diffusion_model." + $0.key, $0.value)
        }
        let vae = try SafeTensorsFile(path: ModelParityTests.fixture("tiny_ldm"))
        for key in vae.keys.sorted() where key.hasPrefix("first_stage_model.") {
            items.append(.init(key, try vae.tensor(key)))
        }
        for key in openCLIP.keys.sorted() where !skipped.contains(key) {
            items.append(.init(key, try openCLIP.tensor(key), dtype: .float16))
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "lf-sd2-\(UUID().uuidString).safetensors")
        try SafeTensorsWriter.write(items + extra, to: url)
        return url
    }

    func tokens() throws -> [[Int]] {
        let ids = try Self.reference.integers("clip.tokens").map(Int.init)
        return [Array(ids[0..<77]), Array(ids[77..<154])]
    }

    func testOpenCLIPTextTowerMatchesTransformers() throws {
        let url = try Self.writeCheckpoint()
        defer { try? FileManager.default.removeItem(at: url) }
        for residency in [WeightResidency.float32, .streamed] {
            let models = try StableDiffusionCheckpoint.load(path: url.path, residency: residency)
            let text = try XCTUnwrap(models.textModel)
            let config = text.config
            XCTAssertEqual([config.layers, config.width, config.heads, config.mlpWidth], [3, 128, 2, 256])
            XCTAssertEqual(config.activation, .gelu)
            XCTAssertEqual(config.padToken, 0)
            XCTAssertEqual(config.defaultLastLayer, -2, "ComfyUI reads SD2's penultimate layer unless told otherwise")
            XCTAssertEqual(config.embeddingKey, "clip_h")
            XCTAssertEqual(models.prediction, .epsilon, "inpainting UNets are eps")
            let last = relativeError(
                try text.encode(try tokens(), lastLayer: -1), try Self.reference.tensor("clip.last"))
            let penultimate = relativeError(
                try text.encode(try tokens(), lastLayer: -2), try Self.reference.tensor("clip.penultimate"))
            XCTAssertLessThan(last, 1e-4)
            XCTAssertLessThan(penultimate, 1e-4)
            print(
                "OpenCLIP text tower (\(residency)) relative error vs transformers: last \(last), penultimate \(penultimate)"
            )
        }
    }

    /// A diffusers SD2 folder: the text encoder in transformers' layout with `hidden_act: gelu`
    /// (diffusers dropped OpenCLIP's last layer, so its last layer is SD2's penultimate one).
    func testDiffusersFolderWithAGELUTextEncoder() throws {
        let checkpoint = try Self.writeCheckpoint()
        defer { try? FileManager.default.removeItem(at: checkpoint) }
        let single = try StableDiffusionCheckpoint.load(path: checkpoint.path)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lf-sd2-folder-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let fm = FileManager.default
        try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        try fm.copyItem(
            at: DiffusersFolderTests.folder("tiny_sd2_inpaint_unet"), to: folder.appendingPathComponent("unet"))
        try fm.copyItem(
            at: DiffusersFolderTests.folder("tiny_diffusers").appendingPathComponent("vae"),
            to: folder.appendingPathComponent("vae"))
        let text = folder.appendingPathComponent("text_encoder")
        try fm.createDirectory(at: text, withIntermediateDirectories: true)
        // Only the first two layers: the last of them is then the penultimate of the single file.
        let kept = single.textWeights.filter { !$0.key.hasPrefix("encoder.layers.2.") }
        try SafeTensorsWriter.write(
            kept.sorted { $0.key < $1.key }.map { .init("text_model." + $0.key, $0.value.tensor(), dtype: .float16) },
            to: text.appendingPathComponent("model.safetensors"))
        try Data(#"{"hidden_act": "gelu", "hidden_size": 128, "num_hidden_layers": 2}"#.utf8).write(
            to: text.appendingPathComponent("config.json"))
        let models = try DiffusersFolder.load(folder)
        let model = try XCTUnwrap(models.textModel)
        XCTAssertEqual(model.config.activation, .gelu)
        XCTAssertEqual(model.config.padToken, 0)
        XCTAssertEqual(model.config.defaultLastLayer, -1)
        let error = relativeError(
            try model.encode(try tokens(), lastLayer: model.config.defaultLastLayer),
            try Self.reference.tensor("clip.penultimate"))
        XCTAssertLessThan(error, 1e-4)
    }

    func testTokenizerPadsWithZeroAsComfyUIsSD2Tokenizer() throws {
        let url = Bundle.module.url(forResource: "tokens_sd2", withExtension: "json", subdirectory: "Fixtures")!
        let cases = try JSONDecoder().decode([TokenizerTests.Case].self, from: Data(contentsOf: url))
        XCTAssertEqual(cases.count, 4)
        for c in cases {
            let chunks = CLIPTokenizer.shared.tokenizeWithWeights(
                c.prompt, padToken: CLIPTextConfiguration.openCLIPViTH14.padToken)
            XCTAssertEqual(chunks.map { $0.map(\.id) }, c.chunks.map { $0.map { Int($0[0]) } }, "ids for '\(c.prompt)'")
            XCTAssertEqual(
                chunks.map { $0.map(\.weight) }, c.chunks.map { $0.map { $0[1] } }, "weights for '\(c.prompt)'")
        }
    }

    func testUnknownAndMisshapenOpenCLIPKeysAreNamed() throws {
        let bogus = "cond_stage_model.model.transformer.resblocks.0.attn.bogus.weight"
        let url = try Self.writeCheckpoint(extra: [.init(bogus, Tensor(shape: [2], repeating: 0))])
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertThrowsError(try StableDiffusionCheckpoint.load(path: url.path)) { error in
            XCTAssertTrue("\(error)".contains(bogus), "\(error)")
        }
        let fused = "cond_stage_model.model.transformer.resblocks.1.attn.in_proj_weight"
        let misshapen = try Self.writeCheckpoint(
            extra: [.init(fused, Tensor(shape: [100, 128], repeating: 0))], skipping: [fused])
        defer { try? FileManager.default.removeItem(at: misshapen) }
        XCTAssertThrowsError(try StableDiffusionCheckpoint.load(path: misshapen.path)) { error in
            XCTAssertTrue("\(error)".contains(fused), "\(error)")
        }
    }

    /// ComfyUI's rule (`comfy/supported_models.py` `SD20.model_type`): an SD2.x UNet with 4 input
    /// channels is v-prediction when the population std of
    /// `output_blocks.11.1.transformer_blocks.0.norm1.bias` exceeds 0.09.
    func testPredictionTypeGuess() {
        var sd2 = UNetConfiguration()
        (sd2.contextDim, sd2.linearProjection, sd2.heads, sd2.headWidth) = (1024, true, nil, 64)
        let key = "output_blocks.11.1.transformer_blocks.0.norm1.bias"
        func bias(std: Float) -> [String: Parameter] {
            // ±std around 0.5: population std exactly `std`.
            [key: Parameter(try! Tensor(shape: [320], scalars: (0..<320).map { 0.5 + ($0 % 2 == 0 ? std : -std) }))]
        }
        XCTAssertEqual(PredictionType.guess(sd2, weights: bias(std: 0.2)), .vPrediction)
        XCTAssertEqual(PredictionType.guess(sd2, weights: bias(std: 0.05)), .epsilon)
        XCTAssertEqual(PredictionType.guess(sd2, weights: [:]), .epsilon)
        var inpainting = sd2
        inpainting.inChannels = 9
        XCTAssertEqual(PredictionType.guess(inpainting, weights: bias(std: 0.2)), .epsilon)
        XCTAssertEqual(PredictionType.guess(.sd15, weights: bias(std: 0.2)), .epsilon)
    }
}
