import Foundation
import LatentflowGraph
import LatentflowIO
import LatentflowTensor
import LatentflowTestSupport
import XCTest

@testable import LatentflowNodes

/// SetClipHooks against ComfyUI v0.3.64 (scripts/make_hooks_fixtures.py): the tiny checkpoint's
/// text encoder with a LoRA hook (strength_clip 3), its encodings and KSampler runs with them,
/// without and with apply_to_conds, and with schedule_clip over keyframes 1.0@0, 0.2@0.5.
final class HookClipParityTests: XCTestCase {
    let context = ExecutionContext(nodeId: "1", classType: "test", environment: HookNodeTests.environment)
    let r = ControlNetNodeTests.fixture("hooks_reference")

    func node(_ node: some Node, _ inputs: [String: any Sendable]) async throws -> [any Sendable] {
        try await node.execute(NodeInputs(inputs), context: context).values
    }

    func clip() async throws -> TextEncoder {
        let loaded = try await node(CheckpointLoaderSimple(), ["ckpt_name": "latentflow-tiny-sd15.safetensors"])
        return try XCTUnwrap(loaded[1] as? TextEncoder)
    }

    func encode(_ clip: TextEncoder) async throws -> Conditioning {
        let prompt = try XCTUnwrap(r.metadata["clip.prompt"])
        let out = try await node(CLIPTextEncode(), ["clip": clip, "text": prompt])
        return try XCTUnwrap(out[0] as? Conditioning)
    }

    func hookedClip(applyToConds: Bool, schedule: Bool, keyframes: HookKeyframes? = nil) async throws -> TextEncoder {
        var hooks = try await node(
            CreateHookLora(),
            ["lora_name": "latentflow-tiny-lora.safetensors", "strength_model": 4.0, "strength_clip": 3.0])[0]
        if let keyframes { hooks = try await node(SetHookKeyframes(), ["hooks": hooks, "hook_kf": keyframes])[0] }
        let out = try await node(
            SetClipHooks(),
            ["clip": try await clip(), "apply_to_conds": applyToConds, "schedule_clip": schedule, "hooks": hooks])
        return try XCTUnwrap(out[0] as? TextEncoder)
    }

    func sample(_ positive: Conditioning) async throws -> Tensor {
        let out = try await KSampler().execute(
            NodeInputs([
                "model": ControlNetNodeTests.model, "seed": 7, "steps": 10, "cfg": 3.0, "sampler_name": "euler",
                "scheduler": "normal", "positive": positive,
                "negative": Conditioning([.init(embedding: try r.tensor("negative"))]),
                "latent_image": Latent(Tensor(shape: [1, 4, 8, 8])), "denoise": 1.0,
            ]), context: context)
        return try XCTUnwrap(out.values[0] as? Latent).samples
    }

    func check(_ figure: Double, _ name: String, bound: Double = 90) {
        print("\(name) against ComfyUI: PSNR \(figure) dB")
        XCTAssertGreaterThan(figure, bound, name)
    }

    func testHookedTextEncoderMatchesComfyUI() async throws {
        let plain = try await encode(try await clip())
        check(psnr(plain.entries[0].embedding, reference: try r.tensor("clip.plain")), "plain encoding")
        let hooked = try await encode(try await hookedClip(applyToConds: false, schedule: false))
        XCTAssertEqual(hooked.entries.count, 1)
        XCTAssertTrue(hooked.entries[0].hooks.isEmpty, "apply_to_conds off: the conditioning carries no hooks")
        check(psnr(hooked.entries[0].embedding, reference: try r.tensor("clip.hooked")), "hooked encoding")
        XCTAssertLessThan(psnr(hooked.entries[0].embedding, reference: try r.tensor("clip.plain")), 60)
        check(psnr(try await sample(hooked), reference: try r.tensor("ksampler.clip_hooked")), "KSampler clip_hooked")
        let applied = try await encode(try await hookedClip(applyToConds: true, schedule: false))
        XCTAssertEqual(applied.entries[0].hooks.hooks.count, 1)
        check(
            psnr(try await sample(applied), reference: try r.tensor("ksampler.clip_hooked_conds")),
            "KSampler clip_hooked_conds")
    }

    func testScheduledTextEncoderMatchesComfyUI() async throws {
        var keyframes = HookKeyframes()
        for (strength, percent) in [(1.0, 0.0), (0.2, 0.5)] {
            keyframes.add(HookKeyframe(strength: strength, startPercent: percent))
        }
        let scheduled = try await encode(try await hookedClip(applyToConds: true, schedule: true, keyframes: keyframes))
        let spans = HookNodeTests.numbers(try JSONValue.parse(try XCTUnwrap(r.metadata["clip.scheduled.spans"])))
        XCTAssertEqual(scheduled.entries.map { [$0.clipStartPercent!, $0.clipEndPercent!] }, spans)
        for (i, entry) in scheduled.entries.enumerated() {
            check(psnr(entry.embedding, reference: try r.tensor("clip.scheduled.\(i)")), "scheduled encoding \(i)")
        }
        check(
            psnr(try await sample(scheduled), reference: try r.tensor("ksampler.clip_scheduled")),
            "KSampler clip_scheduled")
    }
}
