import Foundation
import LatentflowGraph
import LatentflowIO
import LatentflowSampling
import LatentflowTensor
import XCTest

@testable import LatentflowNodes

/// ModelSamplingContinuousEDM and ModelSamplingContinuousV against the model_sampling objects
/// ComfyUI v0.3.64's own nodes install (scripts/make_continuous_sampling_fixtures.py,
/// Fixtures/continuous_sampling.safetensors): the sigma table, timestep / sigma / percent_to_sigma,
/// calculate_input / calculate_denoised, every scheduler's schedule, and euler and dpmpp_2m runs on
/// the sampling tests' stand-in model.
final class ContinuousSamplingNodeTests: XCTestCase {
    static let file = try! SafeTensorsFile(
        path: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/continuous_sampling.safetensors").path)
    static var cases: [String: [String: Any]] {
        try! JSONSerialization.jsonObject(with: Data(file.metadata["cases"]!.utf8)) as! [String: [String: Any]]
    }
    let context = ExecutionContext(nodeId: "1", classType: "test", environment: ExecutionEnvironment())

    static func relative(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count else { return .infinity }
        let scale = max(b.map(abs).max() ?? 0, 1e-12)
        return zip(a, b).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
    }

    static func numbers(_ value: Any?) -> [Float] { (value as! [NSNumber]).map(\.floatValue) }

    func sampling(_ name: String, _ info: [String: Any]) async throws -> ModelSampling {
        let node: any Node = name.hasPrefix("edm.") ? ModelSamplingContinuousEDM() : ModelSamplingContinuousV()
        let inputs: [String: any Sendable] = [
            "model": UNetPatchNodeTests.model, "sampling": info["sampling"] as! String,
            "sigma_max": (info["sigma_max"] as! NSNumber).doubleValue,
            "sigma_min": (info["sigma_min"] as! NSNumber).doubleValue,
        ]
        return (try await node.execute(NodeInputs(inputs), context: context).values[0] as! DiffusionModel).sampling
    }

    func testAgainstComfyUI() async throws {
        var worst: [String: Float] = [:]
        func check(_ label: String, _ error: Float, _ tolerance: Float) {
            worst[label] = max(worst[label] ?? 0, error)
            XCTAssertLessThan(error, tolerance, label)
        }
        let x = try Self.file.tensor("x"), output = try Self.file.tensor("output")
        for (name, info) in Self.cases {
            let s = try await sampling(name, info)
            check("\(name) table", Self.relative(s.sigmas, try Self.file.tensor("\(name).sigmas").scalars), 1e-6)
            check(
                "\(name) log table", Self.relative(s.logSigmas, try Self.file.tensor("\(name).log_sigmas").scalars),
                1e-6)
            check(
                "\(name) timestep",
                Self.relative(Self.numbers(info["probe"]).map(s.timestep), Self.numbers(info["timesteps"])),
                1e-6)
            check(
                "\(name) sigma",
                Self.relative([-1.5, 0, 0.3, 0.9].map(s.sigma), Self.numbers(info["sigma_of"])), 1e-6)
            for (p, expected) in zip([0.0, 0.2, 0.5, 0.75, 1.0], Self.numbers(info["percent"])) {
                check("\(name) percent", abs(s.percentToSigma(p) - expected) / max(abs(expected), 1e-12), 1e-6)
            }
            check(
                "\(name) input",
                Self.relative(s.calculateInput(sigma: 2.5, x).scalars, try Self.file.tensor("\(name).input").scalars),
                1e-6)
            check(
                "\(name) denoised",
                Self.relative(
                    try s.calculateDenoised(sigma: 2.5, modelOutput: output, input: x).scalars,
                    try Self.file.tensor("\(name).denoised").scalars), 1e-6)
            for (scheduler, expected) in info["schedules"] as! [String: Any] {
                let schedulerName = try XCTUnwrap(SchedulerName(rawValue: scheduler))
                let sigmas = try Schedulers.sigmas(schedulerName, s, steps: 6)
                check("\(name) \(scheduler)", Self.relative(sigmas, Self.numbers(expected)), 1e-5)
            }
            for sampler in [SamplerName.euler, .dpmpp2m] {
                check("\(name) \(sampler.rawValue)", try run(s, sampler, name: "\(name).\(sampler.rawValue)"), 1e-5)
            }
        }
        for (label, error) in worst.sorted(by: { $0.key < $1.key }) { print("\(label): relative error \(error)") }
    }

    /// KSAMPLER with cfg 3 on karras 6 steps, seed 9, a zero 4x4 latent.
    func run(_ s: ModelSampling, _ sampler: SamplerName, name: String) throws -> Float {
        let predict = SamplerParameterNodeTests.predict
        let denoiser: Denoiser = { x, sigma in
            let cond = try predict(s, x, sigma, 0.3), uncond = try predict(s, x, sigma, -0.2)
            return try uncond.adding(cond.subtracting(uncond).scaled(by: 3))
        }
        let plan = SamplingPlan(sampler: sampler, sigmas: try Schedulers.sigmas(.karras, s, steps: 6), seed: 9)
        let result = try plan.run(
            latent: Tensor(shape: [1, 4, 4, 4]), batchIndex: nil, sampling: s, denoiser: denoiser)
        return Self.relative(result.samples.scalars, try Self.file.tensor(name).scalars)
    }

    func testUnsupportedSettingsAreRefused() async throws {
        let cases: [(any Node, String, Double, String)] = [
            (ModelSamplingContinuousEDM(), "edm_playground_v2.5", 0.002, "model family"),
            (ModelSamplingContinuousEDM(), "cosmos_rflow", 0.002, "model family"),
            (ModelSamplingContinuousEDM(), "eps", 0, "above 0"),
            (ModelSamplingContinuousV(), "v_prediction", 0, "above 0"),
        ]
        for (node, sampling, sigmaMin, message) in cases {
            let inputs: [String: any Sendable] = [
                "model": UNetPatchNodeTests.model, "sampling": sampling, "sigma_max": 120.0, "sigma_min": sigmaMin,
            ]
            do {
                _ = try await node.execute(NodeInputs(inputs), context: context)
                XCTFail("\(sampling) \(sigmaMin) accepted")
            } catch {
                XCTAssertTrue("\(error)".contains(message), "\(error)")
            }
        }
    }
}
