import Foundation
import LatentflowGraph
import LatentflowIO
import LatentflowModels
import LatentflowTensor
import XCTest

@testable import LatentflowNodes

/// CLIPTextEncodeControlnet: the ControlNet attends to the entry's `controlContext` instead of its
/// text tokens, against ComfyUI v0.3.64's own CFG and ControlNet code on the tiny checkpoint
/// (scripts/make_controlnet_text_fixtures.py). Bound: relative error 1e-4 per denoised prediction,
/// as ControlNetNodeTests.
final class ControlNetTextParityTests: XCTestCase {
    let context = ExecutionContext(nodeId: "1", classType: "test", environment: ExecutionEnvironment())

    func testControlContextMatchesComfyUI() async throws {
        let r = ControlNetNodeTests.fixture("controlnet_text")
        let applied = try await ControlNetApplyAdvanced().execute(
            NodeInputs([
                "positive": Conditioning([.init(embedding: try r.tensor("positive"))]),
                "negative": Conditioning([.init(embedding: try r.tensor("negative"))]),
                "control_net": ControlNetNodeTests.comfyControlNet,
                "image": try ImageBatch(channelsFirst: r.tensor("hint")), "strength": 0.9, "start_percent": 0.0,
                "end_percent": 1.0,
            ]), context: context)
        let plain = applied.values[0] as! Conditioning, negative = applied.values[1] as! Conditioning
        var texted = plain
        texted.entries[0].controlContext = try r.tensor("control_context")
        let sigmas = try r.tensor("sigmas").scalars
        for (name, positive) in [("texted", texted), ("plain", plain)] {
            let denoiser = try CFGDenoiser(
                model: ControlNetNodeTests.model, positive: positive, negative: negative, cfg: 2.5)
            for (i, sigma) in sigmas.enumerated() {
                let out = try denoiser.denoise(r.tensor("x.\(i)"), sigma: sigma)
                let reference = try r.tensor("\(name).\(i)")
                XCTAssertEqual(out.shape, reference.shape)
                let scale = reference.scalars.map(abs).max() ?? 1
                let error = zip(out.scalars, reference.scalars).map { abs($0 - $1) }.max()! / scale
                print("ControlNet with \(name) context at sigma \(sigma) vs ComfyUI: max relative error \(error)")
                XCTAssertLessThan(error, 1e-4, "\(name) at sigma \(sigma)")
            }
        }
    }

    /// The node stores CLIPTextEncode's encoding of its text on every entry and leaves the rest alone.
    func testNodeStoresTheTextEncoding() async throws {
        let checkpoint = try StableDiffusionCheckpoint.load(
            path: ControlNetNodeTests.repository.appendingPathComponent(
                "models/checkpoints/latentflow-tiny-sd15.safetensors"
            ).path, roundCLIPToFloat16: false)
        let clip = TextEncoder(model: try XCTUnwrap(checkpoint.textModel), byteCount: 0)
        let text = Tensor(shape: [1, 77, 32], repeating: 0.5)
        let out = try await CLIPTextEncodeControlnet().execute(
            NodeInputs([
                "clip": clip, "text": "a red fox",
                "conditioning": Conditioning([.init(embedding: text), .init(embedding: text, strength: 0.3)]),
            ]), context: context)
        let expected = try await CLIPTextEncode().execute(
            NodeInputs(["clip": clip, "text": "a red fox"]), context: context)
        let reference = (expected.values[0] as! Conditioning).entries[0].embedding
        let result = out.values[0] as! Conditioning
        XCTAssertEqual(result.entries.count, 2)
        for entry in result.entries {
            XCTAssertEqual(try XCTUnwrap(entry.controlContext).scalars, reference.scalars)
            XCTAssertEqual(entry.embedding.scalars, text.scalars)
        }
        XCTAssertEqual(result.entries[1].strength, 0.3)
    }
}
