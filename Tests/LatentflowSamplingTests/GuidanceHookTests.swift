import Foundation
import LatentflowIO
import LatentflowSampling
import LatentflowTensor
import XCTest

/// The guidance hooks (RescaleCFG, CFGZeroStar, CFGNorm, TCFG, Epsilon Scaling, PerpNeg,
/// DifferentialDiffusion's mask) and their composition against transcriptions of ComfyUI's
/// functions and of `sampling_function` (scripts/make_guidance_fixtures.py).
final class GuidanceHookTests: XCTestCase {
    static let file = try! SafeTensorsFile(
        path: Bundle.module.url(forResource: "guidance", withExtension: "safetensors", subdirectory: "Fixtures")!.path)
    static let cases =
        try! JSONSerialization.jsonObject(with: Data(file.metadata["cases"]!.utf8)) as! [String: [String: Any]]

    /// The hook a ComfyUI node installs, by the fixture's (node, parameter) list.
    func hook(_ patch: [Any], empty: Tensor? = nil) -> GuidanceHook {
        let name = patch[0] as! String
        let value = patch.count > 1 ? (patch[1] as? Double) ?? 0 : 0
        switch name {
        case "RescaleCFG": return .cfg { try GuidanceFunctions.rescaleCFG($0, multiplier: value) }
        case "CFGZeroStar": return .postCFG { try GuidanceFunctions.cfgZeroStar($0, denoised: $1) }
        case "CFGNorm": return .postCFG { try GuidanceFunctions.cfgNorm($0, denoised: $1, strength: value) }
        case "TCFG": return .preCFG { try GuidanceFunctions.tangentialDamping($0) }
        case "Epsilon Scaling":
            return .postCFG { try GuidanceFunctions.epsilonScaling($0, denoised: $1, scalingFactor: value) }
        case "PerpNeg":
            let negScale = value
            return .cfg { p in
                try PerpNegGuidance.perpNeg(
                    positive: p.cond, negative: p.uncond, empty: empty!, negScale: negScale, cfg: p.cfg)
            }
        default: fatalError("no hook for \(name)")
        }
    }

    func hooks(_ patches: [[Any]], empty: Tensor? = nil) -> GuidanceHooks {
        GuidanceHooks(patches.map { hook($0, empty: empty) })
    }

    func entry(_ tensor: Tensor) -> CFGGuidance.Entry {
        CFGGuidance.Entry(area: nil, strength: 1) { _, _ in tensor }
    }

    static func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
        let scale = max(b.scalars.map(abs).max() ?? 1, 1e-6)
        return zip(a.scalars, b.scalars).map { abs($0 - $1) }.max()! / scale
    }

    func testSingleStepHooksMatchComfyUI() throws {
        let f = Self.file
        let x = try f.tensor("x"), empty = try f.tensor("empty")
        let positive = [entry(try f.tensor("positive"))], negative = [entry(try f.tensor("negative"))]
        let names = [
            "rescale_cfg", "rescale_cfg_m0", "cfg_zero_star", "cfg_zero_star_cfg1", "cfg_norm", "tcfg", "tcfg_cfg1",
            "epsilon_scaling", "perp_neg", "chain", "two_cfg_functions", "post_order", "post_order_reversed",
        ]
        var worst: (String, Float) = ("", 0)
        for name in names {
            let info = Self.cases[name]!
            let guidance = CFGGuidance(
                positive: positive, negative: negative, cfg: info["cfg"] as! Double,
                hooks: hooks(info["patches"] as! [[Any]], empty: empty))
            let result = try guidance.denoise(x, sigma: Float(info["sigma"] as! Double))
            let error = Self.relativeError(result, try f.tensor(name))
            if error > worst.1 { worst = (name, error) }
            XCTAssertLessThan(error, 2e-5, "\(name): relative error \(error)")
        }
        // The order matters: the two post-CFG orders differ, and two cfg functions are not the first alone.
        XCTAssertGreaterThan(
            Self.relativeError(try f.tensor("post_order"), try f.tensor("post_order_reversed")), 1e-3)
        print("worst guidance hook case: \(worst.0) relative error \(worst.1)")
    }

    func testPerpNegGuiderCombination() throws {
        let f = Self.file
        let guidance = PerpNegGuidance(
            positive: [entry(try f.tensor("positive"))], negative: [entry(try f.tensor("negative"))],
            empty: [entry(try f.tensor("empty"))], cfg: 6, negScale: 0.7)
        let result = try guidance.denoise(try f.tensor("x"), sigma: 2.5)
        let error = Self.relativeError(result, try f.tensor("perp_neg_guider"))
        print("PerpNegGuider relative error \(error)")
        XCTAssertLessThan(error, 2e-5)
    }

    func testDifferentialDiffusionMaskMatchesComfyUI() throws {
        let f = Self.file
        let mask = try f.tensor("dd.mask"), sigmas = try f.tensor("dd.sigmas").scalars
        let info = Self.cases["dd"]!
        let sampling = ModelSampling()
        for strength in info["strengths"] as! [Double] {
            for (i, sigma) in (info["sigmas"] as! [Double]).enumerated() {
                let result = try DifferentialDiffusionMask.mask(
                    mask, sigma: Float(sigma), sigmas: sigmas, sampling: sampling, strength: strength)
                let expected = try f.tensor("dd.\(strength == 1 ? "1.0" : String(strength)).\(i)")
                let error = zip(result.scalars, expected.scalars).map { abs($0 - $1) }.max()!
                XCTAssertLessThan(error, 1e-6, "strength \(strength) sigma \(sigma): max abs error \(error)")
            }
        }
    }

    /// The script's stand-in: eps = tanh(0.7·x_in + context)·0.9 behind eps calculate_input /
    /// calculate_denoised.
    func standIn(_ context: Float) -> CFGGuidance.Entry {
        CFGGuidance.Entry(area: nil, strength: 1) { x, sigma in
            let s = sigma * sigma + 1
            let eps = x.scaled(by: 0.7 / s.squareRoot(), adding: context).mapScalars { tanhf($0) * 0.9 }
            return try x.subtracting(eps.scaled(by: sigma))
        }
    }

    func testWholeSamplingsThroughHooksMatchComfyUI() throws {
        let f = Self.file
        let info = Self.cases["runs"]!
        let sigmas = try f.tensor("run.sigmas").scalars
        let start = try f.tensor("run.noise").scaled(by: sigmas[0])
        let sampling = ModelSampling()
        var worst: (String, Float) = ("", 0)
        for sampler in info["samplers"] as! [String] {
            for (run, patches) in info["runs"] as! [String: [[Any]]] {
                let guidance = CFGGuidance(
                    positive: [standIn(0.3)], negative: [standIn(-0.2)], cfg: info["cfg"] as! Double,
                    hooks: hooks(patches))
                var noise = StepNoise(seed: 0)
                let result = try Samplers.sample(
                    SamplerName(rawValue: sampler)!, denoiser: { try guidance.denoise($0, sigma: $1) }, x: start,
                    sigmas: sigmas, sampling: sampling, noise: &noise)
                let name = "run.\(sampler).\(run)"
                let error = Self.relativeError(result, try f.tensor(name))
                if error > worst.1 { worst = (name, error) }
                XCTAssertLessThan(error, 5e-5, "\(name): relative error \(error)")
            }
        }
        print("worst guided sampling: \(worst.0) relative error \(worst.1)")
    }

    /// DifferentialDiffusion's mask function inside the inpainting blend, through an euler run.
    func testDifferentialDiffusionInpaintingRunMatchesComfyUI() throws {
        let f = Self.file
        let sigmas = try f.tensor("run.sigmas").scalars, noise = try f.tensor("run.noise")
        let latent = try f.tensor("inpaint.latent")
        let sampling = ModelSampling()
        var blend = try InpaintBlend(mask: f.tensor("inpaint.mask"), latent: latent, noise: noise)
        blend.maskFunction = (
            { sigma, mask, sigmas, sampling in
                try DifferentialDiffusionMask.mask(
                    mask, sigma: sigma, sigmas: sigmas, sampling: sampling, strength: 0.8)
            }, sigmas: sigmas
        )
        let guidance = CFGGuidance(positive: [standIn(0.3)], negative: [standIn(-0.2)], cfg: 1)
        var stepNoise = StepNoise(seed: 0)
        let result = try Samplers.sample(
            .euler, denoiser: blend.wrapping({ try guidance.denoise($0, sigma: $1) }, sampling: sampling),
            x: noise.scaled(by: sigmas[0]).adding(latent), sigmas: sigmas, sampling: sampling, noise: &stepNoise)
        let error = Self.relativeError(result, try f.tensor("inpaint.euler.dd"))
        print("DifferentialDiffusion inpainting run relative error \(error)")
        XCTAssertLessThan(error, 5e-5)
    }
}
