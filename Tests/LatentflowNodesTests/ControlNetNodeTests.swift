import Foundation
import LatentflowGraph
import LatentflowIO
import LatentflowModels
import LatentflowTensor
import LatentflowTestSupport
import XCTest

@testable import LatentflowNodes

/// ControlNetApplyAdvanced's strength, timestep range and chaining through CFG and through a whole
/// KSampler run, against ComfyUI v0.3.64's own code running the tiny checkpoint and a
/// ComfyUI-loadable tiny ControlNet, and a full T2I-Adapter on a UNet it fits
/// (scripts/make_controlnet_comfyui_fixtures.py), and the Canny
/// node against kornia. Bounds: relative error 1e-4 per denoised prediction (float32 through two
/// models), latent PSNR >= 90 dB for the KSampler runs; Canny edges equal.
final class ControlNetNodeTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static func fixture(_ name: String) -> SafeTensorsFile {
        try! SafeTensorsFile(
            path: Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Fixtures")!.path)
    }
    static let model = DiffusionModel(
        try! StableDiffusionCheckpoint.load(
            path: repository.appendingPathComponent("models/checkpoints/latentflow-tiny-sd15.safetensors").path,
            roundCLIPToFloat16: false))
    static let controlNet = ControlNetValue(
        try! ControlModelFile.load(
            path: repository.appendingPathComponent("models/controlnet/latentflow-tiny-controlnet.safetensors").path))
    /// The fixture ControlNet with SD's 16/32/96/256 hint block, which ComfyUI's ControlNet class can load.
    static let comfyControlNet = ControlNetValue(
        try! ControlModelFile.load(
            path: Bundle.module.url(
                forResource: "controlnet_comfy_tiny", withExtension: "safetensors", subdirectory: "Fixtures")!.path))
    let context = ExecutionContext(nodeId: "1", classType: "test", environment: ExecutionEnvironment())

    func apply(
        _ positive: Conditioning, _ negative: Conditioning, hint: Tensor, strength: Double, start: Double, end: Double
    ) async throws -> (Conditioning, Conditioning) {
        let out = try await ControlNetApplyAdvanced().execute(
            NodeInputs([
                "positive": positive, "negative": negative, "control_net": Self.comfyControlNet,
                "image": try ImageBatch(channelsFirst: hint), "strength": strength, "start_percent": start,
                "end_percent": end,
            ]), context: context)
        return (out.values[0] as! Conditioning, out.values[1] as! Conditioning)
    }

    /// The single (strength 0.7, 0.1...0.8) and the chained (0.5 over the whole range first) cases.
    func cases(_ r: SafeTensorsFile) async throws -> [(String, (Conditioning, Conditioning))] {
        let positive = Conditioning([.init(embedding: try r.tensor("positive"))])
        let negative = Conditioning([.init(embedding: try r.tensor("negative"))])
        let single = try await apply(positive, negative, hint: r.tensor("hint_a"), strength: 0.7, start: 0.1, end: 0.8)
        let first = try await apply(positive, negative, hint: r.tensor("hint_b"), strength: 0.5, start: 0, end: 1)
        let chained = try await apply(first.0, first.1, hint: r.tensor("hint_a"), strength: 0.7, start: 0.1, end: 0.8)
        XCTAssertTrue(chained.0.entries[0].control?.previous === first.0.entries[0].control)
        return [("single", single), ("chained", chained)]
    }

    func testStrengthRangeAndChainingMatchComfyUI() async throws {
        let r = Self.fixture("controlnet_sampling")
        let sigmas = try r.tensor("sigmas").scalars
        for (name, conditioning) in try await cases(r) {
            let denoiser = try CFGDenoiser(
                model: Self.model, positive: conditioning.0, negative: conditioning.1, cfg: 3)
            for (i, sigma) in sigmas.enumerated() {
                let out = try denoiser.denoise(r.tensor("x.\(i)"), sigma: sigma)
                let reference = try r.tensor("\(name).\(i)")
                let scale = reference.scalars.map(abs).max() ?? 1
                let error = zip(out.scalars, reference.scalars).map { abs($0 - $1) }.max()! / scale
                print("ControlNet \(name) at sigma \(sigma) vs ComfyUI: max relative error \(error)")
                XCTAssertLessThan(error, 1e-4, "\(name) at sigma \(sigma)")
            }
        }
    }

    /// KSampler (euler, normal, 4 steps, cfg 3, seed 7) on EmptyLatentImage(64, 64), as ComfyUI ran it.
    func testKSamplerWithControlNetsMatchesComfyUI() async throws {
        let r = Self.fixture("controlnet_sampling")
        for (name, conditioning) in try await cases(r) {
            let out = try await KSampler().execute(
                NodeInputs([
                    "model": Self.model, "seed": 7, "steps": 4, "cfg": 3.0, "sampler_name": "euler",
                    "scheduler": "normal", "positive": conditioning.0, "negative": conditioning.1,
                    "latent_image": Latent(Tensor(shape: [1, 4, 8, 8])), "denoise": 1.0,
                ]), context: context)
            let samples = try XCTUnwrap(out.values[0] as? Latent).samples
            let reference = try r.tensor("ksampler.\(name)")
            XCTAssertEqual(samples.shape, reference.shape)
            let decibels = psnr(samples, reference: reference)
            print("KSampler with ControlNet (\(name)) vs ComfyUI: latent PSNR \(decibels) dB")
            XCTAssertGreaterThanOrEqual(decibels, 90, name)
        }
    }

    /// A full T2I-Adapter (ControlNetApplyAdvanced 0.8 over 0...0.6) then KSampler (euler, normal,
    /// 4 steps, cfg 2.5, seed 13) on a UNet with SD's two res blocks per level, where ComfyUI places
    /// the adapter's features.
    func testKSamplerWithT2IAdapterMatchesComfyUI() async throws {
        let r = Self.fixture("t2i_adapter_sampling")
        let fixtures = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let model = DiffusionModel(
            unet: try DiffusersFolder.loadUNet(fixtures.appendingPathComponent("t2i_unet")).0, byteCount: 0)
        let adapter = ControlNetValue(
            try ControlModelFile.load(path: fixtures.appendingPathComponent("t2i_adapter_comfy_tiny.safetensors").path))
        let applied = try await ControlNetApplyAdvanced().execute(
            NodeInputs([
                "positive": Conditioning([.init(embedding: try r.tensor("positive"))]),
                "negative": Conditioning([.init(embedding: try r.tensor("negative"))]), "control_net": adapter,
                "image": ImageBatch(try r.tensor("hint")), "strength": 0.8, "start_percent": 0.0, "end_percent": 0.6,
            ]), context: context)
        let out = try await KSampler().execute(
            NodeInputs([
                "model": model, "seed": 13, "steps": 4, "cfg": 2.5, "sampler_name": "euler", "scheduler": "normal",
                "positive": applied.values[0], "negative": applied.values[1],
                "latent_image": Latent(Tensor(shape: [1, 4, 8, 8])), "denoise": 1.0,
            ]), context: context)
        let samples = try XCTUnwrap(out.values[0] as? Latent).samples
        let reference = try r.tensor("ksampler.adapter")
        XCTAssertEqual(samples.shape, reference.shape)
        let decibels = psnr(samples, reference: reference)
        print("KSampler with T2I-Adapter vs ComfyUI: latent PSNR \(decibels) dB")
        XCTAssertGreaterThanOrEqual(decibels, 90)
    }

    func testZeroStrengthLeavesConditioningAlone() async throws {
        let entry = Conditioning([.init(embedding: Tensor(shape: [1, 5, 32]))])
        let (p, n) = try await apply(entry, entry, hint: Tensor(shape: [1, 3, 64, 64]), strength: 0, start: 0, end: 1)
        XCTAssertNil(p.entries[0].control)
        XCTAssertNil(n.entries[0].control)
    }

    func testOldApplyAlsoControlsTheNegativeSide() async throws {
        let out = try await ControlNetApply().execute(
            NodeInputs([
                "conditioning": Conditioning([.init(embedding: Tensor(shape: [1, 5, 32]))]),
                "control_net": Self.controlNet, "image": ImageBatch(Tensor(shape: [1, 64, 64, 3])), "strength": 1.0,
            ]), context: context)
        let positive = out.values[0] as! Conditioning
        let negative = Conditioning([.init(embedding: Tensor(shape: [1, 5, 32]))]).withUncondControls(from: positive)
        XCTAssertTrue(negative.entries[0].control === positive.entries[0].control)
    }

    func testCannyMatchesKornia() async throws {
        let r = Self.fixture("canny")
        for (low, high) in [(0.4, 0.8), (0.35, 0.8), (0.1, 0.2)] {
            let out = try await Canny().execute(
                NodeInputs(["image": ImageBatch(try r.tensor("image")), "low_threshold": low, "high_threshold": high]),
                context: context)
            let edges = (out.values[0] as! ImageBatch).pixels
            let reference = try r.tensor("edges.\(low).\(high)")
            XCTAssertEqual(edges.shape, reference.shape)
            let differing = zip(edges.scalars, reference.scalars).filter { $0 != $1 }.count
            XCTAssertEqual(differing, 0, "low \(low) high \(high): \(differing) of \(edges.count) values differ")
        }
    }
}
