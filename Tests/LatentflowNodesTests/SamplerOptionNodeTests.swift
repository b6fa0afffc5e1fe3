import Foundation
import LatentflowGraph
import LatentflowIO
import LatentflowModels
import LatentflowSampling
import LatentflowTensor
import XCTest

@testable import LatentflowNodes

/// The SDE and advanced SAMPLER nodes, SamplingPercentToSigma, AddNoise and DualCFGGuider against
/// ComfyUI v0.3.64's own nodes run on the sampling tests' stand-in model
/// (scripts/make_sampler_option_fixtures.py, Fixtures/sampler_options.safetensors): each SAMPLER
/// runs through `SamplingPlan` (seeded initial noise, the sampler, process_latent_out) as ComfyUI's
/// KSAMPLER.sample runs it.
final class SamplerOptionNodeTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let file = try! SafeTensorsFile(path: fixtures.appendingPathComponent("sampler_options.safetensors").path)
    static func metadata(_ key: String) -> [String: Any] {
        try! JSONSerialization.jsonObject(with: Data(file.metadata[key]!.utf8)) as! [String: Any]
    }
    let context = ExecutionContext(nodeId: "1", classType: "test", environment: ExecutionEnvironment())

    static func relativeError(_ result: Tensor, _ expected: Tensor) -> Float {
        guard result.shape == expected.shape else { return .infinity }
        let scale = max(expected.scalars.map(abs).max() ?? 0, 1e-12)
        return zip(result.scalars, expected.scalars).map { abs($0 - $1) }.max()! / scale
    }

    /// Runs the SAMPLER `node` hands out on the stand-in model and returns its relative error.
    func sample(_ node: any Node, case name: String) async throws -> Float {
        let info = try XCTUnwrap(Self.metadata("cases")[name] as? [String: Any], name)
        var inputs: [String: any Sendable] = [:]
        for (key, value) in info["inputs"] as! [String: Any] {
            if let text = value as? String {
                inputs[key] = text
            } else {
                let number = value as! NSNumber
                inputs[key] = ["max_stage", "scale_steps"].contains(key) ? number.intValue : number.doubleValue
            }
        }
        let choice = try await node.execute(NodeInputs(inputs), context: context).values[0] as! SamplerChoice
        let sigmas = (info["sigmas"] as! [NSNumber]).map { $0.floatValue }
        let cfg = Float((info["cfg"] as! NSNumber).doubleValue)
        let sampling = ModelSampling()
        let predict = SamplerParameterNodeTests.predict
        // The CFG++ samplers' guided model: the negative runs even at cfg 1 (disable_cfg1_optimization).
        let guided: GuidedDenoiser = { x, sigma in
            let cond = try predict(sampling, x, sigma, 0.3), uncond = try predict(sampling, x, sigma, -0.2)
            return (try uncond.adding(cond.subtracting(uncond).scaled(by: cfg)), uncond)
        }
        let denoiser: Denoiser = { x, sigma in
            if CFGGuidance.isUnitScale(Double(cfg)) { return try predict(sampling, x, sigma, 0.3) }
            return try guided(x, sigma).denoised
        }
        var plan = SamplingPlan(sampler: choice.name, sigmas: sigmas, seed: (info["seed"] as! NSNumber).uint64Value)
        plan.customAlgorithm = choice.custom
        let shape = info["shape"] as! [Int]
        let result = try plan.run(
            latent: Tensor(shape: shape), batchIndex: nil, sampling: sampling, denoiser: denoiser, guided: guided)
        return Self.relativeError(result.samples, try Self.file.tensor(name))
    }

    func testSamplerNodesMatchComfyUI() async throws {
        let nodes: [(any Node, [String])] = [
            (SamplerDPMPP_SDE(), ["cpu", "gpu", "eta0"].map { "SamplerDPMPP_SDE.\($0)" }),
            (SamplerDPMPP_2M_SDE(), ["midpoint", "heun", "snoise0"].map { "SamplerDPMPP_2M_SDE.\($0)" }),
            (SamplerDPMPP_3M_SDE(), ["options", "eta0"].map { "SamplerDPMPP_3M_SDE.\($0)" }),
            (SamplerER_SDE(), (0..<5).map { "SamplerER_SDE.\($0)" }),
            (
                SamplerEulerCFGpp(),
                ["regular", "alternative"].flatMap { v in ["1.0", "1.6"].map { "SamplerEulerCFGpp.\(v).\($0)" } }
            ),
            (SamplerLCMUpscale(), (0..<5).map { "SamplerLCMUpscale.\($0)" }),
        ]
        var worst: Float = 0
        for (node, cases) in nodes {
            for name in cases {
                let error = try await sample(node, case: name)
                worst = max(worst, error)
                XCTAssertLessThan(error, 1e-5, "\(name): relative error \(error)")
            }
        }
        print("sampler option nodes: worst relative error \(worst)")
    }

    func testSamplerDPMPPSDERefusesRZero() async throws {
        let inputs: [String: any Sendable] = ["eta": 1.0, "s_noise": 1.0, "r": 0.0, "noise_device": "cpu"]
        do {
            _ = try await SamplerDPMPP_SDE().execute(NodeInputs(inputs), context: context)
            XCTFail("r 0 accepted")
        } catch {
            XCTAssertTrue("\(error)".contains("r must be above 0"), "\(error)")
        }
    }

    func testSamplingPercentToSigmaMatchesComfyUI() async throws {
        let model = UNetPatchNodeTests.model
        for (key, value) in Self.metadata("percent_to_sigma") {
            // "<percent>.<True|False>"
            let parts = key.split(separator: ".")
            let percent = try XCTUnwrap(Double(parts.dropLast().joined(separator: "."))), actual = parts.last == "True"
            let inputs: [String: any Sendable] = [
                "model": model, "sampling_percent": percent, "return_actual_sigma": actual,
            ]
            let sigma =
                try await SamplingPercentToSigma().execute(NodeInputs(inputs), context: context).values[0] as! Double
            let expected = (value as! NSNumber).doubleValue
            XCTAssertEqual(sigma, expected, accuracy: abs(expected) * 1e-7, key)
        }
    }

    func testAddNoiseMatchesComfyUI() async throws {
        let model = UNetPatchNodeTests.model
        let latent = try Self.file.tensor("AddNoise.latent")
        let cases = Self.metadata("cases")
        for name in ["two", "one", "zeros"] {
            let info = cases["AddNoise.\(name)"] as! [String: Any]
            let inputs: [String: any Sendable] = [
                "model": model, "noise": NoiseSource(seed: (info["seed"] as! NSNumber).intValue, enabled: true),
                "sigmas": Sigmas(values: (info["sigmas"] as! [NSNumber]).map { $0.floatValue }),
                "latent_image": Latent(name == "zeros" ? Tensor(shape: latent.shape) : latent),
            ]
            let output = try await AddNoise().execute(NodeInputs(inputs), context: context).values[0] as! Latent
            let error = Self.relativeError(output.samples, try Self.file.tensor("AddNoise.\(name)"))
            XCTAssertLessThan(error, 1e-6, "AddNoise.\(name): relative error \(error)")
        }
        let empty: [String: any Sendable] = [
            "model": model, "noise": NoiseSource(seed: 1, enabled: true), "sigmas": Sigmas(values: []),
            "latent_image": Latent(latent),
        ]
        let unchanged = try await AddNoise().execute(NodeInputs(empty), context: context).values[0] as! Latent
        XCTAssertEqual(unchanged.samples.scalars, latent.scalars)
    }

    func testDualCFGGuidanceMatchesComfyUI() throws {
        let contexts = (Self.metadata("contexts") as! [String: NSNumber]).mapValues(\.doubleValue)
        let sampling = ModelSampling()
        func entries(_ name: String) -> [CFGGuidance.Entry] {
            [
                CFGGuidance.Entry(area: nil, strength: 1) { x, sigma in
                    try SamplerParameterNodeTests.predict(sampling, x, sigma, Float(contexts[name]!))
                }
            ]
        }
        let x = try Self.file.tensor("DualCFG.x")
        for (name, value) in Self.metadata("cases") where name.hasPrefix("DualCFG.") {
            let info = value as! [String: Any]
            let guidance = DualCFGGuidance(
                positive: entries("positive"), middle: entries("middle"), negative: entries("negative"),
                cfgConds: (info["cfg_conds"] as! NSNumber).doubleValue,
                cfgMiddleNegative: (info["cfg_cond2_negative"] as! NSNumber).doubleValue,
                nested: info["style"] as! String == "nested")
            let result = try guidance.denoise(x, sigma: Float((info["sigma"] as! NSNumber).doubleValue))
            let error = Self.relativeError(result, try Self.file.tensor(name))
            XCTAssertLessThan(error, 1e-6, "\(name): relative error \(error)")
        }
    }

    func testDualCFGGuiderHandsOutItsSettings() async throws {
        let conditioning = Conditioning([.init(embedding: Tensor(shape: [1, 2, 3]))])
        let inputs: [String: any Sendable] = [
            "model": UNetPatchNodeTests.model, "cond1": conditioning, "cond2": conditioning, "negative": conditioning,
            "cfg_conds": 3.5, "cfg_cond2_negative": 2.0, "style": "nested",
        ]
        let guider = try await DualCFGGuider().execute(NodeInputs(inputs), context: context).values[0] as! Guider
        XCTAssertEqual(guider.cfg, 3.5)
        XCTAssertEqual(guider.dualCFG?.cfgMiddleNegative, 2.0)
        XCTAssertEqual(guider.dualCFG?.nested, true)
    }

    /// DualCFGGuider in SamplerCustomAdvanced on the tiny UNet: with cond2 = the negative, "regular"
    /// adds (cond2 − negative)·cfg2 = 0, so it is exactly CFGGuider at cfg_conds; "nested" then differs.
    func testDualCFGGuiderSamplesAsCFGGuiderWhenCond2IsTheNegative() async throws {
        let model = UNetPatchNodeTests.model
        let encoder = WeightedPromptEncoder(
            model: UNetPatchNodeTests.checkpoint.textModel!, tokenizer: .shared, lastLayer: -1)
        let positive = Conditioning([.init(embedding: try encoder.encode("a red circle"))])
        let negative = Conditioning([.init(embedding: try encoder.encode("blue"))])
        func sample(_ guider: Guider) async throws -> Tensor {
            let inputs: [String: any Sendable] = [
                "noise": NoiseSource(seed: 5, enabled: true), "guider": guider,
                "sampler": SamplerChoice(name: .euler), "sigmas": Sigmas(values: [14.6, 3.0, 0.8, 0]),
                "latent_image": Latent(Tensor(shape: [1, 4, 8, 8])),
            ]
            let out = try await SamplerCustomAdvanced().execute(NodeInputs(inputs), context: context)
            return (out.values[0] as! Latent).samples
        }
        let cfg = try await CFGGuider().execute(
            NodeInputs(["model": model, "positive": positive, "negative": negative, "cfg": 4.0]), context: context)
        let expected = try await sample(cfg.values[0] as! Guider)
        var results: [String: Tensor] = [:]
        for style in ["regular", "nested"] {
            let dual = try await DualCFGGuider().execute(
                NodeInputs([
                    "model": model, "cond1": positive, "cond2": negative, "negative": negative, "cfg_conds": 4.0,
                    "cfg_cond2_negative": 2.5, "style": style,
                ]), context: context)
            results[style] = try await sample(dual.values[0] as! Guider)
        }
        XCTAssertEqual(results["regular"]!.scalars, expected.scalars)
        XCTAssertNotEqual(results["nested"]!.scalars, expected.scalars)
    }

    /// SamplerLCMUpscale in SamplerCustomAdvanced on the tiny UNet: the latent grows 8 → 10 → 12
    /// (scales 1.25, 1.5 over the first two of three steps), the UNet running at each size.
    func testSamplerLCMUpscaleGrowsTheLatentInSamplerCustomAdvanced() async throws {
        let encoder = WeightedPromptEncoder(
            model: UNetPatchNodeTests.checkpoint.textModel!, tokenizer: .shared, lastLayer: -1)
        let conditioning = Conditioning([.init(embedding: try encoder.encode("a red circle"))])
        let guider = try await CFGGuider().execute(
            NodeInputs([
                "model": UNetPatchNodeTests.model, "positive": conditioning, "negative": conditioning, "cfg": 1.0,
            ]), context: context
        ).values[0]
        let sampler = try await SamplerLCMUpscale().execute(
            NodeInputs(["scale_ratio": 1.5, "scale_steps": -1, "upscale_method": "bislerp"]), context: context
        ).values[0]
        let inputs: [String: any Sendable] = [
            "noise": NoiseSource(seed: 3, enabled: true), "guider": guider, "sampler": sampler,
            "sigmas": Sigmas(values: [14.6, 3.0, 0.8, 0]), "latent_image": Latent(Tensor(shape: [1, 4, 8, 8])),
        ]
        let out = try await SamplerCustomAdvanced().execute(NodeInputs(inputs), context: context)
        XCTAssertEqual((out.values[0] as! Latent).samples.shape, [1, 4, 12, 12])
        XCTAssertEqual((out.values[1] as! Latent).samples.shape, [1, 4, 12, 12])
    }

    func testNodesAreRegistered() {
        let ids = Set(BuiltinNodes.nodes.map { $0.schema.classType })
        for id in [
            "SamplerDPMPP_SDE", "SamplerDPMPP_2M_SDE", "SamplerDPMPP_3M_SDE", "SamplerER_SDE", "SamplerEulerCFGpp",
            "SamplerLCMUpscale", "SamplingPercentToSigma", "AddNoise", "DualCFGGuider",
        ] {
            XCTAssertTrue(ids.contains(id), id)
        }
    }
}
