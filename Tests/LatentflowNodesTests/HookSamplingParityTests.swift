import Foundation
import LatentflowGraph
import LatentflowIO
import LatentflowSampling
import LatentflowTensor
import LatentflowTestSupport
import XCTest

@testable import LatentflowNodes

/// KSampler runs with hooked conditioning against ComfyUI v0.3.64 (scripts/make_hooks_fixtures.py):
/// the tiny checkpoint, the tiny LoRA as a hook (strength_model 4) on the positive only, with
/// keyframes changing its strength mid-run, and default conditioning under a masked, time-limited
/// entry, with and without the hook on the default entry.
final class HookSamplingParityTests: XCTestCase {
    let context = ExecutionContext(nodeId: "1", classType: "test", environment: HookNodeTests.environment)
    let r = ControlNetNodeTests.fixture("hooks_reference")

    func sample(_ model: DiffusionModel, _ positive: Conditioning) async throws -> Tensor {
        let out = try await KSampler().execute(
            NodeInputs([
                "model": model, "seed": 7, "steps": 10, "cfg": 3.0, "sampler_name": "euler", "scheduler": "normal",
                "positive": positive, "negative": Conditioning([.init(embedding: try r.tensor("negative"))]),
                "latent_image": Latent(Tensor(shape: [1, 4, 8, 8])), "denoise": 1.0,
            ]), context: context)
        return try XCTUnwrap(out.values[0] as? Latent).samples
    }

    func node(_ node: some Node, _ inputs: [String: any Sendable], slot: Int = 0) async throws -> any Sendable {
        try await node.execute(NodeInputs(inputs), context: context).values[slot]
    }

    func loraHook(_ keyframes: HookKeyframes? = nil) async throws -> Hooks {
        var hooks = try await node(
            CreateHookLora(),
            ["lora_name": "latentflow-tiny-lora.safetensors", "strength_model": 4.0, "strength_clip": 1.0])
        if let keyframes { hooks = try await node(SetHookKeyframes(), ["hooks": hooks, "hook_kf": keyframes]) }
        return try XCTUnwrap(hooks as? Hooks)
    }

    func hooked(_ hooks: Hooks) async throws -> Conditioning {
        let positive = Conditioning([.init(embedding: try r.tensor("positive"))])
        let out = try await node(
            ConditioningSetProperties(),
            ["cond_NEW": positive, "strength": 1.0, "set_cond_area": "default", "hooks": hooks])
        return try XCTUnwrap(out as? Conditioning)
    }

    func check(_ name: String, _ samples: Tensor) throws -> Double {
        let figure = psnr(samples, reference: try r.tensor("ksampler.\(name)"))
        print("KSampler \(name) against ComfyUI: PSNR \(figure) dB")
        XCTAssertGreaterThan(figure, 90, name)
        return figure
    }

    func testLoRAHookOnThePositiveOnlyMatchesComfyUI() async throws {
        let model = ControlNetNodeTests.model
        let plain = try await sample(model, Conditioning([.init(embedding: try r.tensor("positive"))]))
        _ = try check("plain", plain)
        let hookedRun = try await sample(model, try await hooked(try await loraHook()))
        _ = try check("lora", hookedRun)
        let full = try await node(
            LoraLoaderModelOnly(),
            ["model": model, "lora_name": "latentflow-tiny-lora.safetensors", "strength_model": 4.0])
        let fullRun = try await sample(
            try XCTUnwrap(full as? DiffusionModel), Conditioning([.init(embedding: try r.tensor("positive"))]))
        _ = try check("lora_full", fullRun)
        // The hook patches the positive's UNet only: not the same as patching the whole MODEL, nor as no LoRA.
        XCTAssertLessThan(psnr(hookedRun, reference: fullRun), 40)
        XCTAssertLessThan(psnr(hookedRun, reference: plain), 40)
    }

    func testHookKeyframesChangeTheStrengthMidRunAsInComfyUI() async throws {
        let model = ControlNetNodeTests.model
        let stepped = try await sample(
            model, try await hooked(try await loraHook(try await HookNodeTests.steppedKeyframes(context))))
        _ = try check("keyframes", stepped)
        let interpolated = try await sample(
            model, try await hooked(try await loraHook(try await HookNodeTests.interpolatedKeyframes(context))))
        _ = try check("interpolated", interpolated)
        XCTAssertLessThan(psnr(stepped, reference: try r.tensor("ksampler.lora")), 70, "the keyframes matter")
    }

    func testDefaultConditioningFillsWhatOtherEntriesLeaveAsInComfyUI() async throws {
        let model = ControlNetNodeTests.model
        let positive = Conditioning([.init(embedding: try r.tensor("positive"))])
        let positive2 = Conditioning([.init(embedding: try r.tensor("positive2"))])
        let range = try await node(ConditioningTimestepsRange(), ["start_percent": 0.0, "end_percent": 0.7])
        let masked = try await node(
            ConditioningSetProperties(),
            [
                "cond_NEW": positive, "strength": 1.0, "set_cond_area": "default",
                "mask": Mask(try r.tensor("mask")), "timesteps": range,
            ])
        let withDefault = try await node(
            ConditioningSetDefaultCombine(), ["cond": masked, "cond_DEFAULT": positive2])
        _ = try check("default", try await sample(model, try XCTUnwrap(withDefault as? Conditioning)))
        let hookedDefault = try await node(
            ConditioningSetDefaultCombine(),
            ["cond": masked, "cond_DEFAULT": positive2, "hooks": try await loraHook()])
        _ = try check("default_hooked", try await sample(model, try XCTUnwrap(hookedDefault as? Conditioning)))
    }

    func testHooksOverALoRAPatchedModelMatchComfyUI() async throws {
        let patched = try await node(
            LoraLoaderModelOnly(),
            [
                "model": ControlNetNodeTests.model, "lora_name": "latentflow-tiny-lora.safetensors",
                "strength_model": 2.0,
            ])
        let model = try XCTUnwrap(patched as? DiffusionModel)
        let onLoRA = try await sample(model, try await hooked(try await loraHook()))
        _ = try check("lora_on_lora", onLoRA)
        XCTAssertLessThan(psnr(onLoRA, reference: try r.tensor("ksampler.lora")), 40, "the MODEL's LoRA stays")
    }

    /// The checkpoint ComfyUI's run took as a hook: the tiny checkpoint with its UNet weights × 1.25
    /// in float32, written to a scratch `checkpoints` folder.
    func targetCheckpointFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hooks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let base = try SafeTensorsFile(
            path: ControlNetNodeTests.repository.appendingPathComponent(
                "models/checkpoints/latentflow-tiny-sd15.safetensors"
            ).path)
        let items = try base.keys.map { key in
            let tensor = try base.tensor(key)
            return SafeTensorsWriter.Item(
                key, key.hasPrefix("model.diffusion_model.") ? tensor.scaled(by: 1.25) : tensor)
        }
        try SafeTensorsWriter.write(items, to: folder.appendingPathComponent("hooks-target.safetensors"))
        return folder
    }

    /// Checkpoints from a scratch folder, everything else from the repository's `models`.
    struct ScratchCheckpoints: FileCatalog {
        let checkpoints: URL
        let rest: ModelPaths
        func files(in folder: String) -> [String] {
            folder == "checkpoints" ? ["hooks-target.safetensors"] : rest.files(in: folder)
        }
        func locate(_ name: String, in folder: String) throws -> URL {
            folder == "checkpoints" ? checkpoints.appendingPathComponent(name) : try rest.locate(name, in: folder)
        }
        func searchPaths(for folder: String) -> [String] {
            folder == "checkpoints" ? [checkpoints.path] : rest.searchPaths(for: folder)
        }
    }

    func testCheckpointAsAHookMatchesComfyUI() async throws {
        let folder = try targetCheckpointFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let catalog = ScratchCheckpoints(
            checkpoints: folder, rest: try ModelPaths(baseDirectory: ControlNetNodeTests.repository))
        let scratch = ExecutionContext(
            nodeId: "1", classType: "test", environment: ExecutionEnvironment(files: catalog))
        let created = try await CreateHookModelAsLoraModelOnly().execute(
            NodeInputs(["ckpt_name": "hooks-target.safetensors", "strength_model": 0.5]), context: scratch)
        let positive = try await hooked(try XCTUnwrap(created.values[0] as? Hooks))
        _ = try check("model_as_lora", try await sample(ControlNetNodeTests.model, positive))
        let patched = try await node(
            LoraLoaderModelOnly(),
            [
                "model": ControlNetNodeTests.model, "lora_name": "latentflow-tiny-lora.safetensors",
                "strength_model": 2.0,
            ])
        _ = try check("model_as_lora_on_lora", try await sample(try XCTUnwrap(patched as? DiffusionModel), positive))
    }
}
