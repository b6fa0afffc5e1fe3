import Foundation
import LatentflowIO
import LatentflowSampling
import LatentflowTensor
import XCTest

/// dpm_fast, dpm_adaptive, deis, sa_solver(_pece) and the CFG++ samplers against float32 torch
/// transcriptions of ComfyUI v0.3.64's functions on the stand-in model of `SamplerTests`
/// (scripts/make_extra_sampler_fixtures.py).
final class ExtraSamplerTests: XCTestCase {
    static let file = try! SafeTensorsFile(
        path: Bundle.module.url(forResource: "extra_samplers", withExtension: "safetensors", subdirectory: "Fixtures")!
            .path)
    static var schedules: [String: Any] {
        try! JSONSerialization.jsonObject(
            with: Data(
                contentsOf: Bundle.module.url(
                    forResource: "schedules", withExtension: "json", subdirectory: "Fixtures")!))
            as! [String: Any]
    }

    /// eps = tanh(0.7·x_in + context)·0.9 + 0.00005·t behind calculate_input / calculate_denoised.
    static func predict(_ sampling: ModelSampling, _ x: Tensor, _ sigma: Float, _ context: Float) throws -> Tensor {
        let input = sampling.calculateInput(sigma: sigma, x)
        let t = sampling.timestep(sigma)
        let eps = input.scaled(by: 0.7, adding: context).mapScalars { tanhf($0) * 0.9 + t * 0.00005 }
        return try sampling.calculateDenoised(sigma: sigma, modelOutput: eps, input: x)
    }

    /// CFG on denoised predictions with the cfg-1 shortcut (cond 0.3, uncond −0.2).
    static func denoiser(_ sampling: ModelSampling, cfg: Double) -> Denoiser {
        { x, sigma in
            let cond = try predict(sampling, x, sigma, 0.3)
            if abs(cfg - 1) < 1e-9 { return cond }
            let uncond = try predict(sampling, x, sigma, -0.2)
            return try uncond.adding(cond.subtracting(uncond).scaled(by: Float(cfg)))
        }
    }

    /// The CFG++ samplers' model: the negative side always runs, uncond + (cond − uncond)·cfg.
    static func guided(_ sampling: ModelSampling, cfg: Double) -> GuidedDenoiser {
        { x, sigma in
            let cond = try predict(sampling, x, sigma, 0.3)
            let uncond = try predict(sampling, x, sigma, -0.2)
            return (try uncond.adding(cond.subtracting(uncond).scaled(by: Float(cfg))), uncond)
        }
    }

    /// (Name, sigmas, start latent, expected output, fixture info) for every case of the fixture.
    func cases() throws -> [(String, [Float], Tensor, Tensor, [String: Any])] {
        let cases =
            try JSONSerialization.jsonObject(with: Data(Self.file.metadata["cases"]!.utf8)) as! [String: [String: Any]]
        let schedules = Self.schedules["schedules"] as! [String: Any]
        return try cases.sorted(by: { $0.key < $1.key }).map { name, info in
            let sigmas = (schedules["eps." + (info["schedule"] as! String)] as! [Double]).map { Float($0) }
            return (name, sigmas, try Self.file.tensor(name + ".x"), try Self.file.tensor(name), info)
        }
    }

    /// Max abs error relative to the reference's largest magnitude.
    static func relativeError(_ result: Tensor, _ expected: Tensor) -> Float {
        let scale = expected.scalars.map(abs).max()!
        return zip(result.scalars, expected.scalars).map { abs($0 - $1) }.max()! / scale
    }

    func testAgainstComfyUITranscriptions() throws {
        let sampling = ModelSampling()
        var worst: (String, Float) = ("", 0)
        var count = 0
        for (name, sigmas, x, expected, info) in try cases() {
            let sampler = SamplerName(rawValue: info["sampler"] as! String)!
            guard !sampler.rawValue.hasSuffix("_cfg_pp"), !name.hasPrefix("options.") else { continue }
            var noise = StepNoise(seed: UInt64(info["seed"] as! String)!)
            let options = info["options"] as! [String: Any]
            let result: Tensor
            if sampler == .dpmAdaptive, options["order"] != nil {
                result = try SamplerOptions.dpmAdaptive(
                    order: options["order"] as! Int, rtol: options["rtol"] as! Double, atol: options["atol"] as! Double,
                    hInit: options["h_init"] as! Double, pcoeff: options["pcoeff"] as! Double,
                    icoeff: options["icoeff"] as! Double, dcoeff: options["dcoeff"] as! Double,
                    acceptSafety: options["accept_safety"] as! Double, eta: options["eta"] as! Double,
                    sNoise: options["s_noise"] as! Double
                ).sample(
                    denoiser: Self.denoiser(sampling, cfg: info["cfg"] as! Double), x: x, sigmas: sigmas,
                    sampling: sampling, noise: &noise, onStep: { _, _, _ in })
            } else {
                var steps = 0
                result = try Samplers.sample(
                    sampler, denoiser: Self.denoiser(sampling, cfg: info["cfg"] as! Double), x: x, sigmas: sigmas,
                    sampling: sampling, noise: &noise, onStep: { step, _, _ in steps = step })
                if let taken = options["steps_taken"] as? Int {
                    XCTAssertEqual(steps, taken, "\(name): adaptive steps")
                }
            }
            XCTAssertEqual(result.shape, expected.shape, name)
            let error = Self.relativeError(result, expected)
            if error > worst.1 { worst = (name, error) }
            XCTAssertLessThan(error, 2e-5, "\(name): relative error \(error)")
            count += 1
        }
        XCTAssertEqual(count, 25)
        print("worst extra sampler case: \(worst.0) relative error \(worst.1)")
    }

    func testCFGPPAgainstComfyUITranscriptions() throws {
        let sampling = ModelSampling()
        var worst: (String, Float) = ("", 0)
        var count = 0
        for (name, sigmas, x, expected, info) in try cases() {
            let sampler = SamplerName(rawValue: info["sampler"] as! String)!
            guard sampler.rawValue.hasSuffix("_cfg_pp"), !name.hasPrefix("options.") else { continue }
            var noise = StepNoise(seed: UInt64(info["seed"] as! String)!)
            let cfg = info["cfg"] as! Double
            let result = try Samplers.sample(
                sampler, denoiser: Self.denoiser(sampling, cfg: cfg), guided: Self.guided(sampling, cfg: cfg), x: x,
                sigmas: sigmas, sampling: sampling, noise: &noise)
            XCTAssertEqual(result.shape, expected.shape, name)
            let error = Self.relativeError(result, expected)
            if error > worst.1 { worst = (name, error) }
            XCTAssertLessThan(error, 2e-5, "\(name): relative error \(error)")
            count += 1
        }
        XCTAssertEqual(count, 14)
        print("worst CFG++ case: \(worst.0) relative error \(worst.1)")
    }

    /// The settings of the parameter nodes (SamplerEulerAncestral, SamplerEulerAncestralCFGPP,
    /// SamplerLMS, SamplerDPMPP_2S_Ancestral, SamplerSASolver) through `SamplerOptions`.
    func testSamplerOptionsAgainstComfyUITranscriptions() throws {
        let sampling = ModelSampling()
        var count = 0
        for (name, sigmas, x, expected, info) in try cases() where name.hasPrefix("options.") {
            let o = info["options"] as! [String: Any]
            func double(_ key: String) -> Double { o[key] as! Double }
            let algorithm: any SamplerAlgorithm
            switch info["sampler"] as! String {
            case "euler_ancestral":
                algorithm = SamplerOptions.eulerAncestral(eta: double("eta"), sNoise: double("s_noise"))
            case "euler_ancestral_cfg_pp":
                algorithm = SamplerOptions.eulerAncestralCFGPP(eta: double("eta"), sNoise: double("s_noise"))
            case "lms": algorithm = SamplerOptions.lms(order: o["order"] as! Int)
            case "dpmpp_2s_ancestral":
                algorithm = SamplerOptions.dpmpp2sAncestral(eta: double("eta"), sNoise: double("s_noise"))
            default:
                algorithm = SamplerOptions.saSolver(
                    eta: double("eta"), sdeSigmas: (Float(double("sde_start_sigma")), Float(double("sde_end_sigma"))),
                    sNoise: double("s_noise"), predictorOrder: o["predictor_order"] as! Int,
                    correctorOrder: o["corrector_order"] as! Int, usePECE: o["use_pece"] as! Bool,
                    simpleOrder2: o["simple_order_2"] as! Bool)
            }
            var noise = StepNoise(seed: UInt64(info["seed"] as! String)!)
            let cfg = info["cfg"] as! Double
            let result: Tensor
            if let guided = algorithm as? any GuidedSamplerAlgorithm {
                result = try guided.sample(
                    guided: Self.guided(sampling, cfg: cfg), x: x, sigmas: sigmas, sampling: sampling, noise: &noise,
                    onStep: { _, _, _ in })
            } else {
                result = try algorithm.sample(
                    denoiser: Self.denoiser(sampling, cfg: cfg), x: x, sigmas: sigmas, sampling: sampling,
                    noise: &noise, onStep: { _, _, _ in })
            }
            let error = Self.relativeError(result, expected)
            XCTAssertLessThan(error, 2e-5, "\(name): relative error \(error)")
            print("\(name): relative error \(error)")
            count += 1
        }
        XCTAssertEqual(count, 5)
    }

    /// Without the unconditional prediction a CFG++ sampler says what it needs.
    func testCFGPPWithoutGuidanceSaysSo() {
        var noise = StepNoise(seed: 1)
        XCTAssertThrowsError(
            try Samplers.sample(
                .dpmpp2mCFGPP, denoiser: { x, _ in x }, x: Tensor(shape: [1, 4, 4, 4]), sigmas: [1, 0],
                sampling: ModelSampling(), noise: &noise)
        ) { error in
            XCTAssertTrue("\(error)".contains("'dpmpp_2m_cfg_pp' needs the unconditional prediction"), "\(error)")
        }
    }

    /// ComfyUI's dpm_fast/dpm_adaptive refuse a schedule without a positive sigma.
    func testDPMSolverNeedsPositiveSigmas() {
        var noise = StepNoise(seed: 1)
        XCTAssertThrowsError(
            try Samplers.sample(
                .dpmFast, denoiser: { x, _ in x }, x: Tensor(shape: [1, 4, 4, 4]), sigmas: [0, 0],
                sampling: ModelSampling(), noise: &noise)
        ) { error in
            XCTAssertTrue("\(error)".contains("sigma_min and sigma_max must not be 0"), "\(error)")
        }
    }
}
