import Foundation
import LatentflowIO
import LatentflowModels
import LatentflowTensor
import XCTest

/// Well-formed files with hostile shapes (issue 24): a scalar, 1-D, zero-size or wrong-rank tensor
/// where the configuration detectors, loaders or layers expect another shape must fail with an error
/// naming the key, never trap; non-finite weights load with a warning naming them.
final class HostileShapeTests: XCTestCase {
    static let tiny = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("models/checkpoints/latentflow-tiny-sd15.safetensors")
    static let checkpoint = try! SafeTensorsFile(path: tiny.path)

    static let unet = "model.diffusion_model."
    static let vae = "first_stage_model."
    static let clip = "cond_stage_model.transformer.text_model."

    /// The tiny checkpoint with `replaced` tensors swapped in (or added), written to a temp file.
    static func variant(_ replaced: [String: Tensor]) throws -> URL {
        var items: [SafeTensorsWriter.Item] = []
        for entry in checkpoint.entries {
            let tensor = replaced[entry.key] ?? checkpoint.tensor(entry)
            items.append(.init(entry.key, tensor, dtype: replaced[entry.key] == nil ? entry.dtype : .float32))
        }
        for (key, tensor) in replaced where !checkpoint.keys.contains(key) { items.append(.init(key, tensor)) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "lf-hostile-\(UUID().uuidString).safetensors")
        try SafeTensorsWriter.write(items, to: url)
        return url
    }

    static func tensor(_ shape: [Int], value: Float = 0.5) -> Tensor { Tensor(shape: shape, repeating: value) }

    /// Loading the checkpoint with `key` replaced by a tensor of `shape` throws, naming the key.
    func assertRefused(
        _ key: String, _ shape: [Int], residencies: [WeightResidency] = [.float32], file: StaticString = #filePath,
        line: UInt = #line
    ) throws {
        let url = try Self.variant([key: Self.tensor(shape)])
        defer { try? FileManager.default.removeItem(at: url) }
        for residency in residencies {
            do {
                _ = try StableDiffusionCheckpoint.load(path: url.path, residency: residency)
                XCTFail("\(key) as \(shape) was accepted", file: file, line: line)
            } catch {
                let text = "\(error)"
                let name = key.split(separator: ".").suffix(3).joined(separator: ".")
                XCTAssertTrue(text.contains(name), "\(key) \(shape): \(text)", file: file, line: line)
                XCTAssertTrue(text.contains(url.path), "the error names the file: \(text)", file: file, line: line)
            }
        }
    }

    func testUNetDetectorRefusesHostileShapes() throws {
        let u = Self.unet
        try assertRefused(u + "input_blocks.0.0.weight", [0, 4, 3, 3])
        try assertRefused(u + "input_blocks.0.0.weight", [32, 0, 3, 3])
        try assertRefused(u + "out.2.weight", [])
        try assertRefused(u + "input_blocks.1.0.out_layers.3.weight", [], residencies: [.float32, .streamed])
        try assertRefused(u + "input_blocks.1.0.out_layers.3.weight", [16, 32, 3, 3])
        try assertRefused(u + "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight", [32])
        try assertRefused(u + "input_blocks.1.1.proj_in.weight", [32])
        try assertRefused(u + "time_embed.cond_proj.weight", [32])
    }

    func testVAEDetectorRefusesHostileShapes() throws {
        let v = Self.vae
        try assertRefused(v + "decoder.conv_in.weight", [32])
        try assertRefused(v + "decoder.up.1.block.0.conv1.weight", [])
        try assertRefused(v + "decoder.up.0.block.0.conv1.weight", [0, 32, 3, 3])
        try assertRefused(v + "decoder.conv_out.weight", [])
    }

    func testCLIPDetectorRefusesHostileShapes() throws {
        let c = Self.clip
        try assertRefused(c + "embeddings.token_embedding.weight", [49408])
        try assertRefused(c + "embeddings.token_embedding.weight", [49408, 0])
        try assertRefused(c + "embeddings.position_embedding.weight", [])
        try assertRefused(c + "encoder.layers.0.mlp.fc1.weight", [])
    }

    /// A token table with no rows was accepted, and encoding read before its empty buffer.
    func testZeroRowTokenTableIsRefused() throws {
        try assertRefused(
            Self.clip + "embeddings.token_embedding.weight", [0, 32], residencies: [.float32, .streamed])
    }

    /// Right keys, right element count, wrong shape: a transposed Linear weight was silently reshaped.
    func testLayerWeightsAreCheckedAgainstTheArchitecture() throws {
        try assertRefused(Self.unet + "middle_block.1.transformer_blocks.0.attn2.to_k.weight", [32, 64])
        try assertRefused(Self.unet + "input_blocks.1.0.out_layers.3.weight", [32, 32, 9])
        try assertRefused(Self.clip + "encoder.layers.0.layer_norm1.weight", [1, 32])
        try assertRefused(Self.vae + "decoder.conv_out.weight", [32, 3, 3, 3])
    }

    func testOpenCLIPFusedProjectionOfTheWrongRankIsRefused() throws {
        let key = "cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight"
        for shape in [[], [384], [0, 128]] {
            let url = try SD2CheckpointTests.writeCheckpoint(extra: [.init(key, Self.tensor(shape))], skipping: [key])
            defer { try? FileManager.default.removeItem(at: url) }
            XCTAssertThrowsError(try StableDiffusionCheckpoint.load(path: url.path)) {
                XCTAssertTrue("\($0)".contains("in_proj_weight") || "\($0)".contains("q_proj"), "\(shape): \($0)")
            }
        }
    }

    /// Patches whose factors have the wrong rank are refused when the file is read.
    func testLoRAFactorsOfTheWrongRankAreRefused() throws {
        let models = try StableDiffusionCheckpoint.load(path: Self.tiny.path)
        let keyMap = LoRAKeyMap.unet(Array(models.unetWeights.keys), config: models.unet.config)
        let base = try XCTUnwrap(keyMap.first { $0.value == "input_blocks.1.0.out_layers.3.weight" }?.key)
        let cases: [(String, [SafeTensorsWriter.Item])] = [
            (
                base + ".lora_mid.weight",
                [
                    .init(base + ".lora_up.weight", Self.tensor([32, 4, 1, 1])),
                    .init(base + ".lora_down.weight", Self.tensor([4, 32, 1, 1])),
                    .init(base + ".lora_mid.weight", Self.tensor([4])),
                ]
            ),
            (
                base + ".lora_down.weight",
                [
                    .init(base + ".lora_up.weight", Self.tensor([32, 4])),
                    .init(base + ".lora_down.weight", Self.tensor([])),
                ]
            ),
            (
                base + ".lokr_w1",
                [.init(base + ".lokr_w1", Self.tensor([])), .init(base + ".lokr_w2", Self.tensor([4]))]
            ),
            (
                base + ".lokr_w2",
                [.init(base + ".lokr_w1", Self.tensor([2, 2])), .init(base + ".lokr_w2", Self.tensor([0]))]
            ),
            (
                base + ".hada_w1_b",
                [
                    .init(base + ".hada_w1_a", Self.tensor([32, 2])), .init(base + ".hada_w1_b", Self.tensor([2])),
                    .init(base + ".hada_w2_a", Self.tensor([32, 2])),
                    .init(base + ".hada_w2_b", Self.tensor([2, 288])),
                ]
            ),
        ]
        for (key, items) in cases {
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("lf-lora-\(UUID()).safetensors")
            try SafeTensorsWriter.write(items, to: url)
            defer { try? FileManager.default.removeItem(at: url) }
            do {
                let lora = try LoRAFile(path: url.path)
                _ = try LoRAPatcher.apply(lora, to: models.unetWeights, keyMap: keyMap, strength: 1)
                XCTFail("\(key) was accepted")
            } catch {
                XCTAssertTrue("\(error)".contains(key), "\(key): \(error)")
            }
        }
    }

    func testTextualInversionOfTheWrongShapeIsUnreadable() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lf-ti-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (name, shape) in [("scalar", []), ("narrow", [2, 7]), ("empty", [1, 0]), ("none", [0, 32])]
            as [(String, [Int])]
        {
            try SafeTensorsWriter.write(
                [.init("emb_params", Self.tensor(shape))], to: directory.appendingPathComponent(name + ".safetensors"))
            let lookup = TextualInversion.find(name, width: 32) { file in
                let url = directory.appendingPathComponent(file)
                guard FileManager.default.fileExists(atPath: url.path) else { throw CocoaError(.fileNoSuchFile) }
                return url
            }
            guard case let .unreadable(_, reason) = lookup else {
                XCTFail("\(name) \(shape): \(lookup)")
                continue
            }
            XCTAssertTrue(reason.contains("\(shape)"), reason)
        }
    }

    func testNonFiniteWeightsAreReported() throws {
        var values = [Float](repeating: 0.25, count: 4)
        values[2] = .nan
        let nanKey = Self.unet + "out.2.bias", infKey = Self.vae + "decoder.conv_out.bias"
        let url = try Self.variant([
            nanKey: try Tensor(shape: [4], scalars: values),
            infKey: try Tensor(shape: [3], scalars: [1, -.infinity, 0]),
        ])
        defer { try? FileManager.default.removeItem(at: url) }
        let models = try StableDiffusionCheckpoint.load(path: url.path)
        XCTAssertEqual(models.nonFiniteTensors, [infKey, nanKey])
        let clean = try StableDiffusionCheckpoint.load(path: Self.tiny.path)
        XCTAssertEqual(clean.nonFiniteTensors, [])
    }

    /// A standalone VAE file (VAELoader) is scanned as checkpoints are.
    func testNonFiniteWeightsOfAStandaloneVAEAreReported() throws {
        let checkpoint = try SafeTensorsFile(path: Self.tiny.path)
        var items: [SafeTensorsWriter.Item] = []
        for key in checkpoint.keys where key.hasPrefix(Self.vae) {
            var tensor = try checkpoint.tensor(key)
            if key == Self.vae + "decoder.conv_out.bias" {
                tensor = try Tensor(shape: tensor.shape, scalars: [1, .nan, 0])
            }
            items.append(SafeTensorsWriter.Item(String(key.dropFirst(Self.vae.count)), tensor))
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lf-vae-\(UUID()).safetensors")
        try SafeTensorsWriter.write(items, to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertEqual(try StandaloneVAE.load(path: url.path).nonFiniteTensors, ["decoder.conv_out.bias"])
        XCTAssertEqual(
            nonFiniteWeightsWarning(["decoder.conv_out.bias"]),
            "1 tensor(s) hold NaN or infinite values, which give black or noisy images: decoder.conv_out.bias")
    }

    func testDiffusersBlockChannelsThatDoNotDivideAreRefused() throws {
        let source = DiffusersFolderTests.folder("tiny_lcm_unet").appendingPathComponent("config.json")
        var config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: source)) as? [String: Any])
        for channels in [[], [0, 32], [32, 48]] {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lf-unet-\(UUID())")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            config["block_out_channels"] = channels
            try JSONSerialization.data(withJSONObject: config).write(to: folder.appendingPathComponent("config.json"))
            XCTAssertThrowsError(try DiffusersFolder.loadUNet(folder)) {
                XCTAssertTrue("\($0)".contains("block_out_channels \(channels)"), "\($0)")
            }
        }
    }

    func testNonFiniteWarningNamesTheTensors() throws {
        var models = try StableDiffusionCheckpoint.load(path: Self.tiny.path)
        XCTAssertNil(models.nonFiniteWarning)
        models.nonFiniteTensors = ["model.diffusion_model.out.2.bias"]
        XCTAssertEqual(
            models.nonFiniteWarning,
            "1 tensor(s) hold NaN or infinite values, which give black or noisy images: model.diffusion_model.out.2.bias"
        )
    }
}
