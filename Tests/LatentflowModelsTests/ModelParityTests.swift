import Foundation
import LatentflowIO
import LatentflowModels
import LatentflowTensor
import XCTest

/// Tiny-configuration models against diffusers / transformers outputs on the same random weights
/// (scripts/make_model_fixtures.py). Bounds: normwise relative error 1e-4 (float32, different
/// summation orders through a dozen layers).
final class ModelParityTests: XCTestCase {
    static func fixture(_ name: String) -> String {
        Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Fixtures")!.path
    }
    static let reference = try! SafeTensorsFile(path: fixture("reference"))
    static let models = try! StableDiffusionCheckpoint.load(path: fixture("tiny_ldm"), roundCLIPToFloat16: false)

    func testDetectsTheConfiguration() {
        let unet = Self.models.unet.config
        XCTAssertEqual([unet.modelChannels, unet.resBlocksPerLevel, unet.contextDim], [32, 1, 32])
        XCTAssertEqual(unet.channelMultipliers, [1, 2])
        XCTAssertEqual(unet.attentionLevels, [true, false])
        XCTAssertEqual((Self.models.vae as? AutoencoderKL)?.config.channelMultipliers, [1, 2])
        XCTAssertEqual(Self.models.textModel?.config.layers, 3)
    }

    func testUNetMatchesDiffusers() throws {
        let r = Self.reference
        let out = try Self.models.unet(
            r.tensor("unet.x"), timesteps: r.tensor("unet.t").scalars, context: r.tensor("unet.context"))
        let error = relativeError(out, try r.tensor("unet.out"))
        XCTAssertLessThan(error, 1e-4, "UNet relative error \(error)")
        print("UNet relative error vs diffusers: \(error)")
    }

    /// The UNet with bfloat16 products (`--bf16-unet`) strays from diffusers' float32 output about
    /// as far as diffusers' own UNet cast to bfloat16 does (scripts/make_bfloat16_unet_fixture.py):
    /// at most 1.5x that error, and at least a tenth of it (so the mode was on).
    func testBFloat16UNetStraysNoFurtherThanPyTorchsBFloat16UNet() throws {
        let r = Self.reference
        let expected = try r.tensor("unet.out")
        let pytorch = try SafeTensorsFile(path: Self.fixture("bfloat16_unet")).tensor("unet.out_bfloat16")
        let pytorchError = relativeError(pytorch, expected)
        let out = try ProductPrecision.$current.withValue(.bfloat16) {
            try Self.models.unet(
                r.tensor("unet.x"), timesteps: r.tensor("unet.t").scalars, context: r.tensor("unet.context"))
        }
        let error = relativeError(out, expected)
        print("bfloat16 UNet relative error vs diffusers float32: \(error); diffusers in bfloat16: \(pytorchError)")
        XCTAssertLessThan(error, 1.5 * pytorchError)
        XCTAssertGreaterThan(error, 0.1 * pytorchError)
    }

    /// `--bf16-unet` also stores the UNet in bfloat16, as diffusers' `unet.to(torch.bfloat16)` does:
    /// half the weights' memory, and the same bound against that model as above.
    func testBFloat16StoredUNetStraysNoFurtherThanPyTorchsBFloat16UNet() throws {
        let stored = try StableDiffusionCheckpoint.load(
            path: Self.fixture("tiny_ldm"), roundCLIPToFloat16: false, unetResidency: .bfloat16)
        XCTAssertEqual(stored.unetBytes * 2, Self.models.unetBytes)
        let r = Self.reference
        let expected = try r.tensor("unet.out")
        let pytorch = try SafeTensorsFile(path: Self.fixture("bfloat16_unet")).tensor("unet.out_bfloat16")
        let pytorchError = relativeError(pytorch, expected)
        let out = try ProductPrecision.$current.withValue(.bfloat16) {
            try stored.unet(
                r.tensor("unet.x"), timesteps: r.tensor("unet.t").scalars, context: r.tensor("unet.context"))
        }
        let error = relativeError(out, expected)
        print("bfloat16-stored UNet relative error vs diffusers float32: \(error); in bfloat16: \(pytorchError)")
        XCTAssertLessThan(error, 1.5 * pytorchError)
        XCTAssertGreaterThan(error, 0.1 * pytorchError)
    }

    func testVAEMatchesDiffusers() throws {
        let r = Self.reference
        let mean = try Self.models.vae.encode(r.tensor("vae.image"))
        let decoded = try Self.models.vae.decode(r.tensor("vae.latent"))
        let (e1, e2) = (
            relativeError(mean, try r.tensor("vae.mean")), relativeError(decoded, try r.tensor("vae.decoded"))
        )
        XCTAssertLessThan(e1, 1e-4, "encode relative error \(e1)")
        XCTAssertLessThan(e2, 1e-4, "decode relative error \(e2)")
        print("VAE relative error vs diffusers: encode \(e1), decode \(e2)")
    }

    func testCLIPMatchesTransformers() throws {
        let r = Self.reference
        let ids = try r.integers("clip.tokens").map(Int.init)
        let tokens = [Array(ids[0..<77]), Array(ids[77..<154])]
        let model = try XCTUnwrap(Self.models.textModel)
        let last = relativeError(try model.encode(tokens), try r.tensor("clip.last"))
        let penultimate = relativeError(try model.encode(tokens, lastLayer: -2), try r.tensor("clip.penultimate"))
        XCTAssertLessThan(last, 1e-4)
        XCTAssertLessThan(penultimate, 1e-4)
        print("CLIP relative error vs transformers: last \(last), penultimate \(penultimate)")
    }

    /// Low-memory mode: weights left in the file and widened per layer compute exactly
    /// what the float32 copies compute, and keep nothing resident but the small parameters.
    func testStreamedWeightsGiveTheSameOutputs() throws {
        let streamed = try StableDiffusionCheckpoint.load(
            path: Self.fixture("tiny_ldm"), roundCLIPToFloat16: false, residency: .streamed)
        XCTAssertEqual([streamed.unetBytes, streamed.vaeBytes, streamed.textBytes], [0, 0, 0])
        let r = Self.reference
        let x = try r.tensor("unet.x"), t = try r.tensor("unet.t").scalars, context = try r.tensor("unet.context")
        let out = try streamed.unet(x, timesteps: t, context: context)
        XCTAssertEqual(out, try Self.models.unet(x, timesteps: t, context: context))
        XCTAssertLessThan(relativeError(out, try r.tensor("unet.out")), 1e-4)
        let decoded = try streamed.vae.decode(r.tensor("vae.latent"))
        XCTAssertEqual(decoded, try Self.models.vae.decode(r.tensor("vae.latent")))
        XCTAssertEqual(
            try streamed.vae.encode(r.tensor("vae.image")), try Self.models.vae.encode(r.tensor("vae.image")))
        let ids = try r.integers("clip.tokens").map(Int.init)
        let tokens = [Array(ids[0..<77]), Array(ids[77..<154])]
        let text = try XCTUnwrap(streamed.textModel)
        XCTAssertEqual(
            try text.encode(tokens, lastLayer: -2), try XCTUnwrap(Self.models.textModel).encode(tokens, lastLayer: -2))
        XCTAssertLessThan(relativeError(try text.encode(tokens), try r.tensor("clip.last")), 1e-4)
    }

    /// ComfyUI keeps the text encoder in float16: a float32 file read layer by layer is rounded as it is widened.
    func testStreamedTextEncoderIsRoundedToFloat16LikeTheFloat32Copy() throws {
        let rounded = try StableDiffusionCheckpoint.load(path: Self.fixture("tiny_ldm"), roundCLIPToFloat16: true)
        let streamed = try StableDiffusionCheckpoint.load(
            path: Self.fixture("tiny_ldm"), roundCLIPToFloat16: true, residency: .streamed)
        let ids = try Self.reference.integers("clip.tokens").map(Int.init)
        let tokens = [Array(ids[0..<77])]
        XCTAssertEqual(
            try XCTUnwrap(streamed.textModel).encode(tokens), try XCTUnwrap(rounded.textModel).encode(tokens))
    }

    func testMissingAndMismatchedKeysAreListed() throws {
        let source = try SafeTensorsFile(path: Self.fixture("tiny_ldm"))
        var items: [SafeTensorsWriter.Item] = []
        for key in source.keys where key != "model.diffusion_model.out.2.bias" {
            var tensor = try source.tensor(key)
            if key == "first_stage_model.decoder.conv_out.bias" { tensor = Tensor(shape: [7]) }
            items.append(.init(key, tensor, dtype: .float16))
        }
        items.append(.init("model.diffusion_model.surprise.weight", Tensor(shape: [2])))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "broken-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try SafeTensorsWriter.write(items, to: url)
        XCTAssertThrowsError(try StableDiffusionCheckpoint.load(path: url.path)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(url.path), text)
            XCTAssertTrue(text.contains("missing keys (1): out.2.bias"), text)
            XCTAssertTrue(text.contains("unexpected keys (1): surprise.weight"), text)
        }
    }

    func testFloat16CheckpointLoadsAndMatches() throws {
        let source = try SafeTensorsFile(path: Self.fixture("tiny_ldm"))
        let items = try source.keys.map { SafeTensorsWriter.Item($0, try source.tensor($0), dtype: .bfloat16) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bf16-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try SafeTensorsWriter.write(items, to: url)
        let models = try StableDiffusionCheckpoint.load(path: url.path)
        let r = Self.reference
        let out = try models.unet(
            r.tensor("unet.x"), timesteps: r.tensor("unet.t").scalars, context: r.tensor("unet.context"))
        // bfloat16 weights keep 8 bits of mantissa: the output moves by about 1%.
        XCTAssertLessThan(relativeError(out, try r.tensor("unet.out")), 0.05)
    }
}
