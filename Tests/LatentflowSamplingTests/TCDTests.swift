import Foundation
import LatentflowIO
import LatentflowSampling
import LatentflowTensor
import XCTest

/// The TCD sampler against diffusers' `TCDScheduler` and a transcription of the ComfyUI-TCD node
/// pack, both on a toy eps model (scripts/make_tcd_fixtures.py, `toy_eps`).
final class TCDTests: XCTestCase {
    static let file = try! SafeTensorsFile(
        path: Bundle.module.url(forResource: "tcd", withExtension: "safetensors", subdirectory: "Fixtures")!.path)

    /// eps = tanh(0.7·x_in + 0.3)·0.9 + 0.00005·t behind calculate_input / calculate_denoised.
    func toyDenoiser(_ sampling: ModelSampling) -> Denoiser {
        { x, sigma in
            let input = sampling.calculateInput(sigma: sigma, x)
            let t = sampling.timestep(sigma)
            let eps = input.scaled(by: 0.7, adding: 0.3).mapScalars { tanhf($0) * 0.9 + t * 0.00005 }
            return try sampling.calculateDenoised(sigma: sigma, modelOutput: eps, input: x)
        }
    }

    func cases(_ key: String) throws -> [String: [String: Any]] {
        try JSONSerialization.jsonObject(with: Data(Self.file.metadata[key]!.utf8)) as! [String: [String: Any]]
    }

    /// Peak signal to noise ratio in dB, the peak being the reference's largest magnitude.
    func psnr(_ a: Tensor, _ b: Tensor) -> Double {
        let peak = Double(b.scalars.map(abs).max()!)
        let mse =
            zip(a.scalars, b.scalars).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +) / Double(b.scalars.count)
        return mse == 0 ? .infinity : 10 * log10(peak * peak / mse)
    }

    func testAlphaTableMatchesTorchBitForBit() throws {
        let expected = try Self.file.tensor("alphas_cumprod").scalars
        XCTAssertEqual(TCD.alphasCumprod(), expected)
    }

    func testAgainstComfyUITCDNodePack() throws {
        let cases = try cases("comfy_cases")
        XCTAssertEqual(cases.count, 6)
        let sampling = ModelSampling(parameterization: .eps, distilled: true)
        for (name, info) in cases.sorted(by: { $0.key < $1.key }) {
            let key = "comfy." + name
            let steps = info["steps"] as! Int, denoise = info["denoise"] as! Double, eta = info["eta"] as! Double
            let scheduler = SchedulerName(rawValue: info["scheduler"] as! String)!
            let total = try SamplingPlan.scheduledSteps(steps: steps, denoise: denoise)
            let sigmas = Array(try Schedulers.sigmas(scheduler, sampling, steps: total).suffix(steps + 1))
            let expectedSigmas = try Self.file.tensor(key + ".sigmas").scalars
            XCTAssertEqual(sigmas.count, expectedSigmas.count, name)
            for (a, b) in zip(sigmas, expectedSigmas) {
                // sgm_uniform's sigmas go through exp: a last-bit difference from torch is possible.
                XCTAssertLessThanOrEqual(abs(a - b), 2 * b.ulp, "\(name): sigmas")
            }
            let tcd = TCD(eta: eta, sigmas: sigmas, sampling: sampling)
            XCTAssertEqual(tcd.alphaProdS, try Self.file.tensor(key + ".alpha_prod_s").scalars, "\(name): alpha_prod_s")

            var plan = SamplingPlan(sampler: .lcm, sigmas: sigmas, seed: UInt64(info["seed"] as! String)!)
            plan.customAlgorithm = tcd
            let expected = try Self.file.tensor(key)
            let latent =
                denoise < 1 ? try Self.file.tensor(key + ".latent") : Tensor(shape: expected.shape)
            let result = try plan.run(
                latent: latent, batchIndex: nil, sampling: sampling, denoiser: toyDenoiser(sampling)
            ).samples
            XCTAssertEqual(result.shape, expected.shape, name)
            let quality = psnr(result, expected)
            XCTAssertGreaterThan(quality, 90, "\(name): \(quality) dB")
        }
    }

    func testAgainstDiffusersTCDScheduler() throws {
        let cases = try cases("diffusers_cases")
        XCTAssertEqual(cases.count, 5)
        let sampling = ModelSampling(parameterization: .eps, distilled: true)
        for (name, info) in cases.sorted(by: { $0.key < $1.key }) {
            let key = "diffusers." + name
            let steps = info["steps"] as! Int, eta = info["eta"] as! Double
            // ComfyUI's simple schedule on the distilled table walks diffusers' TCD timesteps.
            let sigmas = try Schedulers.sigmas(.simple, sampling, steps: steps)
            XCTAssertEqual(sigmas.dropLast().map { Int(sampling.timestep($0)) }, info["timesteps"] as! [Int], name)
            // diffusers starts from the variance-preserving latent: x = x_vp · sqrt(σ² + 1).
            let start = try Self.file.tensor(key + ".start").scaled(by: (sigmas[0] * sigmas[0] + 1).squareRoot())
            var drawn = 0
            let result = try TCD(eta: eta, sigmas: sigmas, sampling: sampling).run(
                denoiser: toyDenoiser(sampling), x: start, sigmas: sigmas,
                noise: { _ in
                    defer { drawn += 1 }
                    return try Self.file.tensor("\(key).noise.\(drawn)")
                }, onStep: { _, _, _ in })
            XCTAssertEqual(drawn, eta > 0 ? steps - 1 : 0, "\(name): noise draws")
            let quality = psnr(result, try Self.file.tensor(key))
            XCTAssertGreaterThan(quality, 90, "\(name): \(quality) dB")
        }
    }

    func testSigmasFromAnotherScheduleAreRefused() throws {
        let sampling = ModelSampling(parameterization: .eps, distilled: true)
        let tcd = TCD(eta: 0.3, sigmas: try Schedulers.sigmas(.simple, sampling, steps: 2), sampling: sampling)
        let longer = try Schedulers.sigmas(.simple, sampling, steps: 4)
        XCTAssertThrowsError(
            try tcd.run(
                denoiser: toyDenoiser(sampling), x: Tensor(shape: [1, 4, 2, 2]), sigmas: longer, noise: { $0 },
                onStep: { _, _, _ in })
        ) { error in
            XCTAssertTrue("\(error)".contains("made for 3 sigmas but is given 5"), "\(error)")
        }
    }
}
