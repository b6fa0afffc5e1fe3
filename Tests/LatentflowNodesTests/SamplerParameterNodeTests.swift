import Foundation
import LatentflowGraph
import LatentflowIO
import LatentflowSampling
import LatentflowTensor
import XCTest

@testable import LatentflowNodes

/// The custom-sampling SAMPLER nodes hand out their sampler with the settings given: each runs
/// on the stand-in model of the sampling tests and is compared with the float32 torch
/// transcription of ComfyUI's sampler at those settings (scripts/make_extra_sampler_fixtures.py,
/// Tests/LatentflowSamplingTests/Fixtures/extra_samplers.safetensors).
final class SamplerParameterNodeTests: XCTestCase {
    static let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    static let file = try! SafeTensorsFile(
        path: tests.appendingPathComponent("LatentflowSamplingTests/Fixtures/extra_samplers.safetensors").path)
    static var schedules: [String: Any] {
        try! JSONSerialization.jsonObject(
            with: Data(contentsOf: tests.appendingPathComponent("LatentflowSamplingTests/Fixtures/schedules.json")))
            as! [String: Any]
    }
    let context = ExecutionContext(nodeId: "1", classType: "test", environment: ExecutionEnvironment())

    /// The sampling tests' stand-in: eps = tanh(0.7·x_in + context)·0.9 + 0.00005·t, cond 0.3, uncond −0.2.
    static func predict(_ sampling: ModelSampling, _ x: Tensor, _ sigma: Float, _ context: Float) throws -> Tensor {
        let input = sampling.calculateInput(sigma: sigma, x)
        let t = sampling.timestep(sigma)
        let eps = input.scaled(by: 0.7, adding: context).mapScalars { tanhf($0) * 0.9 + t * 0.00005 }
        return try sampling.calculateDenoised(sigma: sigma, modelOutput: eps, input: x)
    }

    func run(_ node: any Node, _ inputs: [String: any Sendable], case name: String) async throws -> Float {
        let choice = try await node.execute(NodeInputs(inputs), context: context).values[0] as! SamplerChoice
        let algorithm = try XCTUnwrap(choice.custom)
        let cases =
            try JSONSerialization.jsonObject(with: Data(Self.file.metadata["cases"]!.utf8)) as! [String: [String: Any]]
        let info = try XCTUnwrap(cases[name])
        let sigmas =
            ((Self.schedules["schedules"] as! [String: Any])["eps." + (info["schedule"] as! String)]
            as! [Double]).map { Float($0) }
        let (sampling, cfg) = (ModelSampling(), Float(info["cfg"] as! Double))
        let guided: GuidedDenoiser = { x, sigma in
            let cond = try Self.predict(sampling, x, sigma, 0.3), uncond = try Self.predict(sampling, x, sigma, -0.2)
            return (try uncond.adding(cond.subtracting(uncond).scaled(by: cfg)), uncond)
        }
        var noise = StepNoise(seed: UInt64(info["seed"] as! String)!)
        let x = try Self.file.tensor(name + ".x")
        let result: Tensor
        if let cfgpp = algorithm as? any GuidedSamplerAlgorithm {
            result = try cfgpp.sample(
                guided: guided, x: x, sigmas: sigmas, sampling: sampling, noise: &noise, onStep: { _, _, _ in })
        } else {
            result = try algorithm.sample(
                denoiser: { try guided($0, $1).denoised }, x: x, sigmas: sigmas, sampling: sampling, noise: &noise,
                onStep: { _, _, _ in })
        }
        let expected = try Self.file.tensor(name)
        let scale = expected.scalars.map(abs).max()!
        return zip(result.scalars, expected.scalars).map { abs($0 - $1) }.max()! / scale
    }

    func testNodesHandOutTheirSettings() async throws {
        let runs: [(any Node, [String: any Sendable], String)] = [
            (SamplerEulerAncestral(), ["eta": 0.6, "s_noise": 0.7], "options.euler_ancestral"),
            (SamplerEulerAncestralCFGPP(), ["eta": 0.5, "s_noise": 0.8], "options.euler_ancestral_cfg_pp"),
            (SamplerLMS(), ["order": 2], "options.lms"),
            (SamplerDPMPP_2S_Ancestral(), ["eta": 0.4, "s_noise": 1.2], "options.dpmpp_2s_ancestral"),
            (
                SamplerDPMAdaptative(),
                [
                    "order": 2, "rtol": 0.02, "atol": 0.005, "h_init": 0.1, "pcoeff": 0.1, "icoeff": 0.8,
                    "dcoeff": 0.1, "accept_safety": 0.85, "eta": 1.0, "s_noise": 0.9,
                ], "dpm_adaptive.options"
            ),
        ]
        for (node, inputs, name) in runs {
            let error = try await run(node, inputs, case: name)
            XCTAssertLessThan(error, 2e-5, "\(name): relative error \(error)")
        }
    }

    func testNodesAreRegisteredUnderComfyUINames() {
        let ids = Set(BuiltinNodes.nodes.map { $0.schema.classType })
        for id in [
            "SamplerEulerAncestral", "SamplerEulerAncestralCFGPP", "SamplerLMS", "SamplerDPMPP_2S_Ancestral",
            "SamplerDPMAdaptative", "SamplerSASolver",
        ] {
            XCTAssertTrue(ids.contains(id), id)
        }
    }
}
