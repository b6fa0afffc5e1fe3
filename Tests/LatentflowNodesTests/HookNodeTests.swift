import Foundation
import LatentflowGraph
import LatentflowIO
import LatentflowSampling
import LatentflowTensor
import LatentflowTestSupport
import XCTest

@testable import LatentflowNodes

/// The hooks family against ComfyUI v0.3.64's own `comfy_extras/nodes_hooks.py` and `comfy/hooks.py`
/// (scripts/make_hooks_fixtures.py): the keyframes its nodes make, the keyframe strength in force at
/// each step of a KSampler run, and whole KSampler runs on the tiny checkpoint with a LoRA hook on
/// the positive only, with keyframes, and with default conditioning.
final class HookNodeTests: XCTestCase {
    static let environment = ExecutionEnvironment(
        files: try! ModelPaths(baseDirectory: ControlNetNodeTests.repository))
    let context = ExecutionContext(nodeId: "1", classType: "test", environment: HookNodeTests.environment)

    /// Parsed with Latentflow's own JSON parser: Foundation's JSONSerialization on Linux does not
    /// round every double exactly.
    static let keyframeCases: [String: [[Double]]] = {
        let url = Bundle.module.url(forResource: "hooks_keyframes", withExtension: "json", subdirectory: "Fixtures")!
        let json = try! JSONValue.parse(Data(contentsOf: url))
        var cases: [String: [[Double]]] = [:]
        for (name, keyframes) in json["cases"]!.objectPairs! { cases[name] = numbers(keyframes) }
        return cases
    }()

    static func numbers(_ rows: JSONValue) -> [[Double]] {
        rows.arrayValue!.map { $0.arrayValue!.map { $0.doubleValue! } }
    }

    func run(_ node: some Node, _ inputs: [String: any Sendable]) async throws -> [any Sendable] {
        try await node.execute(NodeInputs(inputs), context: context).values
    }

    func keyframes(_ values: [any Sendable]) throws -> [[Double]] {
        try XCTUnwrap(values[0] as? HookKeyframes).keyframes.map {
            [$0.startPercent, $0.strength, Double($0.guaranteeSteps)]
        }
    }

    func testInterpolatedKeyframesMatchComfyUI() async throws {
        let cases = Self.keyframeCases.filter {
            HookInterpolation.names.contains(String($0.key.split(separator: " ")[0]))
        }
        XCTAssertEqual(cases.count, 12)
        for (name, expected) in cases {
            let parts = name.split(separator: " ").map(String.init)
            let values = try await run(
                CreateHookKeyframesInterpolated(),
                [
                    "strength_start": Double(parts[1])!, "strength_end": Double(parts[2])!, "interpolation": parts[0],
                    "start_percent": Double(parts[3])!, "end_percent": Double(parts[4])!,
                    "keyframes_count": Int(parts[5])!, "print_keyframes": false,
                ])
            let ours = try keyframes(values)
            guard parts[0] == "ease_in_out" else {
                XCTAssertEqual(ours, expected, name)
                continue
            }
            // ease_in_out goes through np.cos, whose float32 SIMD kernels are not correctly rounded
            // (1 ulp off for some inputs, depending on the CPU numpy dispatches to): a strength may
            // differ by that ulp times (end − start) / 2 and its own rounding; percents and
            // guaranteed steps must be exact.
            XCTAssertEqual(ours.map { [$0[0], $0[2]] }, expected.map { [$0[0], $0[2]] }, name)
            let range = abs(Double(parts[2])! - Double(parts[1])!)
            for (mine, theirs) in zip(ours, expected) {
                let tolerance = range / 2 * Double(Float.ulpOfOne) + 2 * Double(Float(theirs[1]).ulp)
                XCTAssertLessThanOrEqual(abs(mine[1] - theirs[1]), tolerance, name)
            }
        }
    }

    func testKeyframesFromFloatsAndChainedKeyframesMatchComfyUI() async throws {
        for (name, expected) in Self.keyframeCases where name.hasPrefix("floats ") {
            let floats = name.split(separator: " ").dropFirst().map { Double($0)! }
            let values = try await run(
                CreateHookKeyframesFromFloats(),
                [
                    "floats_strength": FloatList(floats), "start_percent": 0.1, "end_percent": 0.8,
                    "print_keyframes": false,
                ])
            XCTAssertEqual(try keyframes(values), expected, name)
        }
        var chained: HookKeyframes?
        for (strength, percent) in [(0.5, 0.6), (2.0, 0.2), (0.7, 0.6), (1.1, 0.0)] {
            var inputs: [String: any Sendable] = ["strength_mult": strength, "start_percent": percent]
            if let chained { inputs["prev_hook_kf"] = chained }
            chained = try await run(CreateHookKeyframe(), inputs)[0] as? HookKeyframes
        }
        XCTAssertEqual(try keyframes([chained!]), Self.keyframeCases["chained"])
    }

    func testCombiningKeepsEachHookOnceInInputOrder() async throws {
        let lora = try await run(
            CreateHookLoraModelOnly(), ["lora_name": "latentflow-tiny-lora.safetensors", "strength_model": 1.0])[0]
        let a = try XCTUnwrap(lora as? Hooks)
        let second = try await run(
            CreateHookLora(),
            ["lora_name": "latentflow-tiny-lora.safetensors", "strength_model": 0.5, "strength_clip": 0.0])
        let b = try XCTUnwrap(second[0] as? Hooks)
        let four = try await run(CombineHooks4(), ["hooks_A": a, "hooks_B": b, "hooks_D": a])
        XCTAssertEqual(try XCTUnwrap(four[0] as? Hooks).hooks.map(\.strengthModel), [1.0, 0.5])
        let eight = try await run(CombineHooks8(), [:])
        XCTAssertTrue(try XCTUnwrap(eight[0] as? Hooks).isEmpty)
        // Both strengths 0: the previous hooks come back unchanged (ComfyUI makes no hook).
        let none = try await run(
            CreateHookLora(),
            [
                "lora_name": "latentflow-tiny-lora.safetensors", "strength_model": 0.0, "strength_clip": 0.0,
                "prev_hooks": a,
            ])
        XCTAssertEqual(try XCTUnwrap(none[0] as? Hooks).hooks.count, 1)
        // Keyframes set on a clone do not make it another hook.
        let set = try await run(
            SetHookKeyframes(), ["hooks": a, "hook_kf": HookKeyframes([HookKeyframe(strength: 2)])])
        let scheduled = try XCTUnwrap(set[0] as? Hooks)
        XCTAssertEqual(a.combined(with: scheduled).hooks.count, 1)
        XCTAssertEqual(scheduled.hooks[0].keyframes.keyframes, [HookKeyframe(strength: 2)])
    }

    func testSetPropertiesSetsMaskTimestepsAndAppendsHooks() async throws {
        let r = ControlNetNodeTests.fixture("hooks_reference")
        let created = try await run(
            CreateHookLoraModelOnly(), ["lora_name": "latentflow-tiny-lora.safetensors", "strength_model": 1.0])
        let hooks = try XCTUnwrap(created[0] as? Hooks)
        let ranges = try await run(ConditioningTimestepsRange(), ["start_percent": 0.2, "end_percent": 0.7])
        let before = try XCTUnwrap(ranges[1] as? TimestepsRange), after = try XCTUnwrap(ranges[2] as? TimestepsRange)
        XCTAssertEqual([before.start, before.end, after.start, after.end], [0, 0.2, 0.7, 1])
        let base = Conditioning([.init(embedding: try r.tensor("positive"))])
        let out = try await run(
            ConditioningSetPropertiesAndCombine(),
            [
                "cond": base, "cond_NEW": base, "strength": 0.4, "set_cond_area": "mask bounds",
                "mask": Mask(try r.tensor("mask").reshaped([8, 8])), "hooks": hooks, "timesteps": ranges[0],
            ])
        let entries = try XCTUnwrap(out[0] as? Conditioning).entries
        XCTAssertEqual(entries.count, 2)
        XCTAssertNil(entries[0].mask)
        XCTAssertTrue(entries[0].hooks.isEmpty)
        XCTAssertEqual(entries[1].mask?.shape, [1, 8, 8], "a 2-D mask gains a batch dimension")
        XCTAssertEqual(entries[1].maskStrength, 0.4)
        XCTAssertTrue(entries[1].setAreaToBounds)
        XCTAssertEqual([entries[1].startPercent, entries[1].endPercent], [0.2, 0.7])
        XCTAssertEqual(entries[1].hooks.hooks.count, 1)
        // Strength without a mask changes nothing, as in ComfyUI.
        let plain = try await run(
            ConditioningSetProperties(), ["cond_NEW": base, "strength": 3.0, "set_cond_area": "default"])
        XCTAssertEqual(try XCTUnwrap(plain[0] as? Conditioning).entries[0].maskStrength, 1)
        XCTAssertEqual(try XCTUnwrap(plain[0] as? Conditioning).entries[0].strength, 1)
    }

    /// ComfyUI's keyframe strength at each model call of the fixture's runs, from the sigma it was called at.
    func testKeyframeStrengthAtEachStepMatchesComfyUI() async throws {
        let r = ControlNetNodeTests.fixture("hooks_reference")
        let sampling = ControlNetNodeTests.model.sampling
        let cases: [(String, HookKeyframes)] = [
            ("keyframes", try await Self.steppedKeyframes(context)),
            ("interpolated", try await Self.interpolatedKeyframes(context)),
        ]
        for (name, keyframes) in cases {
            let schedule = Self.numbers(try JSONValue.parse(try XCTUnwrap(r.metadata["schedule.\(name)"])))
            let tracker = HookKeyframeTracker(
                keyframes, percentToSigma: sampling.percentToSigma, maxSigma: Float(schedule[0][0]))
            var strengths: [Double] = []
            for call in schedule {
                tracker.advance(to: Float(call[0]))
                strengths.append(tracker.strength)
            }
            XCTAssertEqual(strengths, schedule.map { $0[1] }, name)
        }
    }

    /// The fixture's CreateHookKeyframe chain: 1.0 from 0, 0.25 from 0.3, 1.5 from 0.6.
    static func steppedKeyframes(_ context: ExecutionContext) async throws -> HookKeyframes {
        var keyframes = HookKeyframes()
        for (strength, percent) in [(1.0, 0.0), (0.25, 0.3), (1.5, 0.6)] {
            let out = try await CreateHookKeyframe().execute(
                NodeInputs(["strength_mult": strength, "start_percent": percent, "prev_hook_kf": keyframes]),
                context: context)
            keyframes = try XCTUnwrap(out.values[0] as? HookKeyframes)
        }
        return keyframes
    }

    /// The fixture's CreateHookKeyframesInterpolated: 0 to 1.2, ease_in_out, 0.1 to 0.9, 4 keyframes.
    static func interpolatedKeyframes(_ context: ExecutionContext) async throws -> HookKeyframes {
        let out = try await CreateHookKeyframesInterpolated().execute(
            NodeInputs([
                "strength_start": 0.0, "strength_end": 1.2, "interpolation": "ease_in_out", "start_percent": 0.1,
                "end_percent": 0.9, "keyframes_count": 4, "print_keyframes": false,
            ]), context: context)
        return try XCTUnwrap(out.values[0] as? HookKeyframes)
    }
}
