import Foundation
import Latentflow
import XCTest

/// The few-step workflows in workflows/ run on their tiny stand-ins: SD-Turbo (SDTurboScheduler +
/// SamplerCustom with euler_ancestral on the tiny SD2.1-architecture checkpoint), TCD (its LoRA and
/// TCDModelSamplingDiscrete's sampler and sigmas into SamplerCustom), a Hyper-SD SD1.5 LoRA
/// (KSampler ddim / sgm_uniform, the model card's trailing DDIM) and SDXS-512-0.9 as its download
/// ships it (UNETLoader on the diffusers-layout UNet, CLIPLoader on the transformers-layout text
/// encoder, TAESD; one euler step at cfg 1).
final class FewStepWorkflowTests: XCTestCase {
    var output: URL!
    var engine: Engine!

    override func setUpWithError() throws {
        output = FileManager.default.temporaryDirectory.appendingPathComponent(
            "lf-fewstep-\(UUID().uuidString)")
        engine = try Engine(
            paths: ModelPaths(baseDirectory: TinyLCMWorkflowTests.repository, outputDirectory: output))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: output) }

    /// Runs `path` at 64x64 (its EmptyLatentImage is node `latentNode`) and checks the image.
    func run(_ path: String, latentNode: String, overrides: [String] = []) async throws {
        var loaded = try engine.load(TinyLCMWorkflowTests.repository.appendingPathComponent(path))
        try loaded.apply(overrides: ["\(latentNode).width=64", "\(latentNode).height=64"] + overrides)
        let files = engine.writtenFiles(try await engine.run(loaded))
        XCTAssertEqual(files.count, 1, path)
        let image = try ImageCodec.read(path: try XCTUnwrap(files.first).path)
        XCTAssertEqual([image.width, image.height, image.channels], [64, 64, 3], path)
        guard case .uint8(let pixels) = image.samples else { return XCTFail("8-bit expected") }
        XCTAssertGreaterThan(Set(pixels).count, 50, "\(path): a flat image")
    }

    func testSDTurboWorkflowRuns() async throws {
        try await run("workflows/sd-turbo-tiny.json", latentNode: "4")
        try await run("workflows/sd-turbo-tiny.json", latentNode: "4", overrides: ["6.steps=4"])
    }

    /// The fast paths with TAESD decode (VAELoader "taesd", the stand-in in models/vae_approx).
    func testTAESDFastPathWorkflowsRun() async throws {
        try await run("workflows/sd-turbo-taesd-tiny.json", latentNode: "4")
        try await run("workflows/lcm-lora-taesd-tiny.json", latentNode: "5")
    }

    func testTCDWorkflowRuns() async throws {
        try await run("workflows/tcd-tiny.json", latentNode: "6")
        // Hyper-SD's 1-step unified LoRA with TCD at eta 1 (its model card's setting).
        try await run(
            "workflows/tcd-tiny.json", latentNode: "6", overrides: ["3.steps=1", "3.eta=1.0"])
    }

    func testHyperSDWorkflowRuns() async throws {
        try await run("workflows/hyper-sd-tiny.json", latentNode: "5")
    }

    func testSDXSWorkflowRuns() async throws {
        try await run("workflows/sdxs-tiny.json", latentNode: "6")
    }

    /// DiffusersLoader on SDXS's whole folder (models/diffusers/latentflow-tiny-sdxs-512-0.9), its
    /// AutoencoderTiny decoding.
    func testSDXSDiffusersFolderWorkflowRuns() async throws {
        try await run("workflows/sdxs-diffusers-tiny.json", latentNode: "6")
    }
}
