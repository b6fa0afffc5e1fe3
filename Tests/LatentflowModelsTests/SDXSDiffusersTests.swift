import Foundation
import LatentflowIO
import LatentflowTensor
import XCTest

@testable import LatentflowModels

/// SDXS-512 as its download ships it (scripts/make_sdxs_diffusers_fixtures.py): diffusers-layout
/// UNets through UNETLoader's path, detected as ComfyUI's `unet_config_from_diffusers_unet` detects
/// them, against diffusers' UNet2DConditionModel; the transformers-layout text encoder through
/// CLIPLoader's, against transformers' CLIPTextModel.
final class SDXSDiffusersTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let sd09Path = repository.appendingPathComponent(
        "models/diffusion_models/latentflow-tiny-sdxs-09-unet.safetensors"
    ).path
    static let textEncoderPath = repository.appendingPathComponent(
        "models/text_encoders/latentflow-tiny-sdxs-09-text-encoder.safetensors"
    ).path
    static let reference = try! SafeTensorsFile(path: ModelParityTests.fixture("tiny_sdxs_diffusers_reference"))

    /// Peak signal over the reference's largest magnitude, in dB.
    func psnr(_ out: Tensor, _ expected: Tensor) -> Double {
        let peak = Double(expected.scalars.map(abs).max()!)
        let mse =
            zip(out.scalars, expected.scalars).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +)
            / Double(expected.scalars.count)
        return 10 * log10(peak * peak / mse)
    }

    func compare(_ part: StableDiffusionModels.UNetPart, case name: String) throws {
        let r = Self.reference
        let out = try part.unet(
            r.tensor("\(name).x"), timesteps: r.tensor("\(name).t").scalars, context: r.tensor("\(name).context"))
        let expected = try r.tensor("\(name).out")
        let (db, error) = (psnr(out, expected), relativeError(out, expected))
        print("diffusers-layout \(name) UNet: \(db) dB, relative error \(error) against diffusers")
        XCTAssertGreaterThan(db, 90, name)
        XCTAssertLessThan(error, 1e-5, name)
    }

    /// SDXS-512-0.9's structure: attention on every level, the first level's attn1 on the text
    /// (SD09_XS `disable_self_attentions`), linear projections, no middle block.
    func testSD09XSDiffusersUNetMatchesDiffusers() throws {
        let part = try StandaloneUNet.load(path: Self.sd09Path)
        let config = part.unet.config
        XCTAssertEqual(config.channelMultipliers.indices.map { config.resBlocks(level: $0) }, [1, 1, 1])
        XCTAssertEqual(config.attentionLevels, [true, true, true])
        XCTAssertEqual(config.selfAttentionDisabledLevels, [true, false, false])
        XCTAssertEqual(config.middleBlock, .none)
        XCTAssertTrue(config.linearProjection)
        XCTAssertEqual(config.headWidth, 64)
        XCTAssertEqual(part.prediction, .epsilon)
        try compare(part, case: "sd09_xs")
    }

    /// DiffusersLoader's UNet reading of the same file in a `unet/` folder with its config.json:
    /// `only_cross_attention` and `mid_block_type` null read, the same output.
    func testDiffusersUNetFolderReadsOnlyCrossAttention() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdxs-unet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = try XCTUnwrap(
            Bundle.module.url(forResource: "tiny_sdxs_09_unet_config", withExtension: "json", subdirectory: "Fixtures"))
        try FileManager.default.copyItem(at: config, to: folder.appendingPathComponent("config.json"))
        try FileManager.default.createSymbolicLink(
            at: folder.appendingPathComponent("diffusion_pytorch_model.safetensors"),
            withDestinationURL: URL(fileURLWithPath: Self.sd09Path))
        let (unet, weights) = try DiffusersFolder.loadUNet(folder)
        XCTAssertEqual(unet.config.selfAttentionDisabledLevels, [true, false, false])
        XCTAssertEqual(unet.config.middleBlock, .none)
        try compare(
            StableDiffusionModels.UNetPart(
                unet: unet, weights: weights.mapValues { Parameter($0) }, bytes: 0, prediction: .epsilon),
            case: "sd09_xs")
    }

    /// SDXS-512-1.0's: no attention on level 0, 1x1-convolution projections, 8 heads (ComfyUI's
    /// SD15 class, which SD_XS's context width puts it in).
    func testSDXSDiffusersUNetMatchesDiffusers() throws {
        let part = try StandaloneUNet.load(path: ModelParityTests.fixture("tiny_sdxs_diffusers_sd_xs"))
        let config = part.unet.config
        XCTAssertEqual(config.attentionLevels, [false, true, true])
        XCTAssertEqual(config.selfAttentionDisabledLevels, [])
        XCTAssertEqual(config.middleBlock, .none)
        XCTAssertFalse(config.linearProjection)
        XCTAssertEqual(config.heads, 8)
        try compare(part, case: "sd_xs")
    }

    func testNonSDDiffusersUNetIsRefused() throws {
        let path = ModelParityTests.fixture("tiny_sdxs_diffusers_not_sd")
        XCTAssertThrowsError(try StandaloneUNet.load(path: path)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("tiny_sdxs_diffusers_not_sd.safetensors"), message)
            XCTAssertTrue(message.contains("matches none of ComfyUI's SD1.x/SD2.x diffusers UNets"), message)
            XCTAssertTrue(message.contains("transformer_depth [0, 2]"), message)
            XCTAssertTrue(message.contains("adm_in_channels 80"), message)
        }
    }

    /// The full-size files' key names and shapes (diffusers models built without tensors) pick
    /// ComfyUI's entry by ComfyUI's exact rule, and every key has an LDM name; SDXL-family
    /// Segmind Vega is refused.
    func testFullSizeKeyShapesPickComfyUIsEntries() throws {
        let url = try XCTUnwrap(
            Bundle.module.url(forResource: "sdxs_diffusers_shapes", withExtension: "json", subdirectory: "Fixtures"))
        let models = try JSONDecoder().decode([String: [String: [Int]]].self, from: Data(contentsOf: url))
        for (name, shapes) in models {
            let fingerprint = try DiffusersUNetFingerprint(shapes: shapes, source: name)
            let entry = DiffusersUNetEntry.all.first { $0.matches(fingerprint) }
            if name == "Segmind_Vega" {
                XCTAssertNil(DiffusersUNetEntry.first(matching: fingerprint), fingerprint.summary)
                continue
            }
            XCTAssertEqual(entry?.name, name, fingerprint.summary)
            let map = DiffusersUNetKeyMap.modules(fingerprint.keyLayout)
            let unmapped = shapes.keys.filter { DiffusersUNetKeyMap.ldmName($0, in: map) == nil }
            XCTAssertEqual(unmapped, [], name)
        }
        XCTAssertEqual(
            Set(models.keys),
            ["SD15", "SD21", "SD21_uncliph", "SD15_diffusers_inpaint", "SD09_XS", "SD_XS", "Segmind_Vega"])
    }

    static let autoencoderTinyFolder = Bundle.module.url(
        forResource: "tiny_autoencoder_tiny", withExtension: nil, subdirectory: "Fixtures")!
    static let autoencoderTiny = autoencoderTinyFolder.appendingPathComponent("diffusion_pytorch_model.safetensors")
        .path

    /// Our TAESD's encode and decode of an AutoencoderTiny against diffusers': encode maps to
    /// ComfyUI's unscaled latents (diffusers' are model space, `vae_scale` times those), decode
    /// takes them.
    func assertMatchesDiffusers(_ autoencoder: any ImageAutoencoder, file: StaticString = #filePath, line: UInt = #line)
        throws
    {
        let taesd = try XCTUnwrap(autoencoder as? TAESD, "\(type(of: autoencoder))", file: file, line: line)
        XCTAssertEqual([taesd.width, taesd.latentChannels], [8, 4], file: file, line: line)
        XCTAssertEqual(taesd.vaeScale, 0.18215, file: file, line: line)
        let r = try SafeTensorsFile(path: ModelParityTests.fixture("tiny_autoencoder_tiny_reference"))
        let scale = Tensor(shape: [], repeating: taesd.vaeScale)
        let latents = try taesd.encode(r.tensor("image")).multiplying(scale)
        let decoded = try taesd.decode(r.tensor("latent").dividing(scale))
        for (name, out, expected) in [
            ("encode", latents, try r.tensor("latents")), ("decode", decoded, try r.tensor("decoded")),
        ] {
            let (db, error) = (psnr(out, expected), relativeError(out, expected))
            print("AutoencoderTiny as TAESD, \(name): \(db) dB, relative error \(error) against diffusers")
            XCTAssertGreaterThan(db, 60, name, file: file, line: line)
            XCTAssertLessThan(error, 1e-5, name, file: file, line: line)
        }
    }

    /// SDXS's vae/ holds a diffusers AutoencoderTiny, which ComfyUI's VAELoader leaves empty ("No
    /// VAE weights detected"); VAELoader's path reads it as the TAESD it is.
    func testVAELoaderReadsTheDiffusersAutoencoderTinyAsTAESD() throws {
        let (vae, bytes, nonFinite) = try StandaloneVAE.load(path: Self.autoencoderTiny)
        XCTAssertEqual(nonFinite, [])
        XCTAssertGreaterThan(bytes, 0)
        try assertMatchesDiffusers(vae)
    }

    /// Keys TAESD lacks or does not read are named as the diffusers file has them.
    func testAutoencoderTinyKeyErrorsNameTheFilesKeys() throws {
        let file = try SafeTensorsFile(path: Self.autoencoderTiny)
        var complete: [String: Tensor] = [:]
        for key in file.keys { complete[key] = try file.tensor(key) }
        func assertRefused(_ tensors: [String: Tensor], naming key: String, notNaming taesdKey: String? = nil) {
            XCTAssertThrowsError(try TAESDFiles.load(diffusersAutoencoderTiny: tensors, source: "vae.safetensors")) {
                error in
                let message = "\(error)"
                XCTAssertTrue(message.contains("vae.safetensors") && message.contains(key), message)
                if let taesdKey { XCTAssertFalse(message.contains(" " + taesdKey), message) }
            }
        }
        // A decoder key missing: diffusers' index 17 is TAESD's decoder 18.
        var tensors = complete
        tensors["decoder.layers.17.conv.2.weight"] = nil
        assertRefused(tensors, naming: "decoder.layers.17.conv.2.weight", notNaming: "18.conv.2.weight")
        // An encoder key no layer reads.
        tensors = complete
        tensors["encoder.layers.15.weight"] = Tensor(shape: [1])
        assertRefused(tensors, naming: "encoder.layers.15.weight", notNaming: "15.weight")
        // A key of neither part.
        tensors = complete
        tensors["vae.extra"] = Tensor(shape: [1])
        assertRefused(tensors, naming: "vae.extra")
    }

    /// An AutoencoderTiny with other block counts than TAESD's (1 block per level) is refused by
    /// name, not read wrongly.
    func testAnAutoencoderTinyNotShapedAsTAESDIsRefused() throws {
        let path = ModelParityTests.fixture("tiny_sdxs_diffusers_autoencoder_tiny")
        XCTAssertThrowsError(try StandaloneVAE.load(path: path)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("tiny_sdxs_diffusers_autoencoder_tiny.safetensors"), message)
            XCTAssertTrue(message.contains("TAESD"), message)
        }
    }

    /// DiffusersLoader on a whole SDXS-512-0.9-shaped folder: the pruned UNet, the 23-layer GELU
    /// text encoder and the AutoencoderTiny vae/, each against its reference.
    func testDiffusersLoaderReadsAnSDXSFolder() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sdxs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        func link(_ part: String, config: String, weights: String, as name: String) throws {
            let dir = folder.appendingPathComponent(part)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(
                at: dir.appendingPathComponent("config.json"), withDestinationURL: URL(fileURLWithPath: config))
            try FileManager.default.createSymbolicLink(
                at: dir.appendingPathComponent(name), withDestinationURL: URL(fileURLWithPath: weights))
        }
        let fixtures = Self.autoencoderTinyFolder.deletingLastPathComponent()
        try link(
            "unet", config: fixtures.appendingPathComponent("tiny_sdxs_09_unet_config.json").path,
            weights: Self.sd09Path, as: "diffusion_pytorch_model.safetensors")
        try link(
            "text_encoder", config: fixtures.appendingPathComponent("tiny_sdxs_09_text_encoder_config.json").path,
            weights: Self.textEncoderPath, as: "model.safetensors")
        try link(
            "vae", config: fixtures.appendingPathComponent("tiny_autoencoder_tiny/config.json").path,
            weights: Self.autoencoderTiny, as: "diffusion_pytorch_model.safetensors")
        let models = try DiffusersFolder.load(folder, roundCLIPToFloat16: false)
        try assertMatchesDiffusers(models.vae)
        try compare(
            StableDiffusionModels.UNetPart(
                unet: models.unet, weights: models.unetWeights, bytes: 0, prediction: models.prediction),
            case: "sd09_xs")
        let text = try XCTUnwrap(models.textModel)
        let tokens = try Self.reference.tensor("text.tokens").scalars.map { Int($0) }
        let out = try text.encode(
            [Array(tokens[0..<77]), Array(tokens[77..<154])], lastLayer: text.config.defaultLastLayer)
        XCTAssertLessThan(relativeError(out, try Self.reference.tensor("text.hidden")), 1e-5)
        XCTAssertTrue(models.vaeWeights.keys.allSatisfy { $0.hasPrefix("taesd_") || $0.hasPrefix("vae_") })
    }

    /// CLIPLoader's path takes transformers' `text_model.*` file as SDXS-512-0.9's text_encoder/
    /// holds it: 23 GELU layers (OpenCLIP ViT-H as diffusers converted it) read to the end.
    func testCLIPLoaderReadsTheTransformersTextEncoder() throws {
        let part = try StandaloneTextEncoder.load(path: Self.textEncoderPath, roundToFloat16: false)
        let config = part.model.config
        XCTAssertEqual(config.layers, 23)
        XCTAssertEqual(config.activation, .gelu)
        XCTAssertEqual(config.padToken, 0)
        XCTAssertEqual(config.defaultLastLayer, -1)
        let tokens = try Self.reference.tensor("text.tokens").scalars.map { Int($0) }
        let out = try part.model.encode(
            [Array(tokens[0..<77]), Array(tokens[77..<154])], lastLayer: config.defaultLastLayer)
        let expected = try Self.reference.tensor("text.hidden")
        let error = relativeError(out, expected)
        print("transformers-layout SD2-style text encoder: relative error \(error) against transformers")
        XCTAssertLessThan(error, 1e-5)
    }
}
