import Foundation
import Latentflow
import LatentflowModels
import LatentflowSampling
import XCTest

@testable import LatentflowNodes

/// Whole inpainting and outpainting runs against ComfyUI v0.3.64's own nodes and sampling, on the
/// tiny models loaded into ComfyUI (`scripts/make_inpaint_fixtures.py`): VAEEncodeForInpaint with a 9-channel
/// SD1.5-style inpainting UNet, SetLatentNoiseMask with a plain UNet (euler and ddim),
/// ImagePadForOutpaint, InpaintModelConditioning, an inpainting UNet with no mask, and the tiny
/// SD1.5-inpainting checkpoint (LDM layout) through VAEEncodeForInpaint and KSampler. The VAE and
/// plain UNet are the tiny diffusers pipeline of the model tests.
/// Bound: latents PSNR >= 90 dB.
final class InpaintParityTests: XCTestCase {
    static let fixtures = Bundle.module.url(forResource: "inpaint", withExtension: nil, subdirectory: "Fixtures")!
    static let reference = try! SafeTensorsFile(path: fixtures.appendingPathComponent("reference.safetensors").path)
    static let pipeline = try! DiffusersFolder.load(
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("LatentflowModelsTests/Fixtures/tiny_diffusers"))
    static let inpaintUNet = try! DiffusersFolder.loadUNet(fixtures.appendingPathComponent("unet")).0

    let context = ExecutionContext(nodeId: "1", classType: "test", environment: ExecutionEnvironment())
    var vae: VAEModel { VAEModel(autoencoder: Self.pipeline.vae, byteCount: 0) }

    func tensor(_ name: String) throws -> Tensor { try Self.reference.tensor(name) }

    func psnr(_ a: Tensor, _ b: Tensor) -> Double {
        let peak = Double((b.scalars.max() ?? 0) - (b.scalars.min() ?? 0))
        let mse = zip(a.scalars, b.scalars).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(b.count)
        return mse == 0 ? .infinity : 10 * log10(peak * peak / mse)
    }

    func assertClose(_ actual: Tensor, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let expected = try tensor(name)
        XCTAssertEqual(actual.shape, expected.shape, name, file: file, line: line)
        let db = psnr(actual, expected)
        print("inpaint parity \(name): PSNR \(String(format: "%.1f", db)) dB")
        XCTAssertGreaterThanOrEqual(db, 90, "\(name): PSNR \(db) dB", file: file, line: line)
    }

    /// SamplerCustom with the fixture's sigmas (999, 600, 250 and 0 on SD1.5's table), euler or ddim.
    func sample(
        _ unet: UNet, _ latent: Latent, seed: Int, cfg: Double, sampler: SamplerName = .euler,
        positive: Conditioning? = nil, negative: Conditioning? = nil
    ) async throws -> Tensor {
        let model = DiffusionModel(unet: unet, byteCount: 0)
        let values: [String: any Sendable] = [
            "model": model, "add_noise": true, "noise_seed": seed, "cfg": cfg,
            "positive": try positive ?? Conditioning([.init(embedding: try tensor("positive"))]),
            "negative": try negative ?? Conditioning([.init(embedding: try tensor("negative"))]),
            "sampler": SamplerChoice(name: sampler), "sigmas": Sigmas(values: try tensor("sigmas").scalars),
            "latent_image": latent,
        ]
        let out = try await SamplerCustom().execute(NodeInputs(values), context: context).values[0] as! Latent
        return out.samples
    }

    func encodeForInpaint(_ image: Tensor, _ mask: Tensor, grow: Int) async throws -> Latent {
        let values: [String: any Sendable] = [
            "pixels": ImageBatch(image), "vae": vae, "mask": Mask(mask), "grow_mask_by": grow,
        ]
        return try await VAEEncodeForInpaint().execute(NodeInputs(values), context: context).values[0] as! Latent
    }

    func testVAEEncodeForInpaintWithInpaintingUNet() async throws {
        var latent = try await encodeForInpaint(try tensor("image"), try tensor("mask"), grow: 6)
        XCTAssertEqual(latent.noiseMask, try tensor("vae_encode_for_inpaint.noise_mask"))
        try assertClose(latent.samples, "vae_encode_for_inpaint.samples")
        latent.samples = try tensor("vae_encode_for_inpaint.samples")  // sampling from the same start
        try assertClose(
            try await sample(Self.inpaintUNet, latent, seed: 11, cfg: 2.5), "vae_encode_for_inpaint.expected")
    }

    func testSetLatentNoiseMaskWithPlainUNet() async throws {
        let values: [String: any Sendable] = [
            "samples": Latent(try tensor("plain.latent")), "mask": Mask(try tensor("mask")),
        ]
        let latent =
            try await SetLatentNoiseMask().execute(NodeInputs(values), context: context).values[0] as! Latent
        XCTAssertEqual(latent.noiseMask?.shape, [1, 1, 21, 26])
        for sampler in [SamplerName.euler, .ddim] {
            try assertClose(
                try await sample(Self.pipeline.unet, latent, seed: 5, cfg: 3, sampler: sampler),
                "set_latent_noise_mask.\(sampler.rawValue)")
        }
    }

    func testOutpainting() async throws {
        let values: [String: any Sendable] = [
            "image": ImageBatch(try tensor("outpaint.image")), "left": 4, "top": 0, "right": 6, "bottom": 2,
            "feathering": 3,
        ]
        let padded = try await ImagePadForOutpaint().execute(NodeInputs(values), context: context).values
        let (image, mask) = (padded[0] as! ImageBatch, padded[1] as! Mask)
        XCTAssertEqual(image.pixels, try tensor("outpaint.padded"))
        XCTAssertEqual(mask.values.scalars, try tensor("outpaint.pad_mask").scalars)
        let latent = try await encodeForInpaint(image.pixels, mask.values, grow: 4)
        XCTAssertEqual(latent.noiseMask, try tensor("outpaint.noise_mask"))
        try assertClose(try await sample(Self.inpaintUNet, latent, seed: 3, cfg: 2), "outpaint.expected")
    }

    func testInpaintModelConditioning() async throws {
        let values: [String: any Sendable] = [
            "positive": Conditioning([.init(embedding: try tensor("positive"))]),
            "negative": Conditioning([.init(embedding: try tensor("negative"))]), "vae": vae,
            "pixels": ImageBatch(try tensor("image")), "mask": Mask(try tensor("mask")), "noise_mask": true,
        ]
        let out = try await InpaintModelConditioning().execute(NodeInputs(values), context: context).values
        let latent = out[2] as! Latent
        try assertClose(latent.samples, "inpaint_model_conditioning.samples")
        // ComfyUI crops the mask (and the masked image) to multiples of 8, whatever the VAE's factor.
        XCTAssertEqual(latent.noiseMask?.shape, [1, 1, 16, 24])
        try assertClose(
            try await sample(
                Self.inpaintUNet, latent, seed: 9, cfg: 2, positive: out[0] as? Conditioning,
                negative: out[1] as? Conditioning),
            "inpaint_model_conditioning.expected")
    }

    func testInpaintingUNetWithoutMask() async throws {
        try assertClose(
            try await sample(Self.inpaintUNet, Latent(Tensor(shape: [1, 4, 6, 7])), seed: 4, cfg: 1.5),
            "no_mask.expected")
    }

    /// The tiny SD1.5-inpainting checkpoint in the LDM single-file layout (the inpaint templates'
    /// stand-in) with its own VAE: VAEEncodeForInpaint (grow 6), then KSampler (euler, normal, 4 steps,
    /// cfg 2.5, seed 21), as ComfyUI loaded and ran it.
    func testInpaintingCheckpointThroughKSampler() async throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(
                "models/checkpoints/latentflow-tiny-sd15-inpainting.safetensors")
        let models = try StableDiffusionCheckpoint.load(path: path.path, roundCLIPToFloat16: false)
        let values: [String: any Sendable] = [
            "pixels": ImageBatch(try tensor("checkpoint.image")),
            "vae": VAEModel(autoencoder: models.vae, byteCount: 0),
            "mask": Mask(try tensor("checkpoint.mask")), "grow_mask_by": 6,
        ]
        let latent = try await VAEEncodeForInpaint().execute(NodeInputs(values), context: context).values[0] as! Latent
        XCTAssertEqual(latent.noiseMask, try tensor("checkpoint.noise_mask"))
        try assertClose(latent.samples, "checkpoint.samples")
        let out = try await KSampler().execute(
            NodeInputs([
                "model": DiffusionModel(models), "seed": 21, "steps": 4, "cfg": 2.5, "sampler_name": "euler",
                "scheduler": "normal", "positive": Conditioning([.init(embedding: try tensor("positive"))]),
                "negative": Conditioning([.init(embedding: try tensor("negative"))]), "latent_image": latent,
                "denoise": 1.0,
            ]), context: context)
        try assertClose(try XCTUnwrap(out.values[0] as? Latent).samples, "checkpoint.expected")
    }

    func testInpaintingUNetRefusesAMismatchedLatent() async throws {
        do {
            _ = try await sample(Self.inpaintUNet, Latent(Tensor(shape: [1, 3, 6, 7])), seed: 4, cfg: 1.5)
            XCTFail("no error for a 3-channel latent")
        } catch {
            XCTAssertTrue("\(error)".contains("input channels"), "\(error)")
        }
    }
}
