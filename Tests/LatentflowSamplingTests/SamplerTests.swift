import Foundation
import LatentflowIO
import LatentflowSampling
import LatentflowTensor
import XCTest

/// Sampler outputs against ComfyUI's own sampling code run on a stand-in model
/// (scripts/make_sampling_fixtures.py, `stand_in_eps`).
final class SamplerTests: XCTestCase {
    static let file = try! SafeTensorsFile(
        path: Bundle.module.url(forResource: "samplers", withExtension: "safetensors", subdirectory: "Fixtures")!.path)

    /// The same stand-in as the script: eps = tanh(0.7·x_in + context)·0.9 + 0.00005·t, behind
    /// calculate_input / calculate_denoised and CFG on denoised predictions.
    func denoiser(_ sampling: ModelSampling, cfg: Double) -> Denoiser {
        func predict(_ x: Tensor, _ sigma: Float, _ context: Float) throws -> Tensor {
            let input = sampling.calculateInput(sigma: sigma, x)
            let t = sampling.timestep(sigma)
            let eps = input.scaled(by: 0.7, adding: context).mapScalars { tanhf($0) * 0.9 + t * 0.00005 }
            return try sampling.calculateDenoised(sigma: sigma, modelOutput: eps, input: x)
        }
        return { x, sigma in
            let cond = try predict(x, sigma, 0.3)
            if abs(cfg - 1) < 1e-9 { return cond }
            let uncond = try predict(x, sigma, -0.2)
            return try uncond.adding(cond.subtracting(uncond).scaled(by: Float(cfg)))
        }
    }

    func testAgainstComfyUI() throws {
        let cases =
            try JSONSerialization.jsonObject(with: Data(Self.file.metadata["cases"]!.utf8)) as! [String: [String: Any]]
        XCTAssertEqual(cases.count, 250)
        var worst: (String, Float) = ("", 0)
        for (name, info) in cases.sorted(by: { $0.key < $1.key }) {
            let sampling = ModelSampling(parameterization: Parameterization(rawValue: info["sampling"] as! String)!)
            let sampler = SamplerName(rawValue: info["sampler"] as! String)!
            let scheduler = SchedulerName(rawValue: info["scheduler"] as! String)!
            var sigmas = try SamplingPlan.sigmas(
                scheduler: scheduler, sampling: sampling,
                steps: info["steps"] as! Int, denoise: info["denoise"] as! Double, sampler: sampler)
            sigmas =
                SamplingPlan.window(
                    sigmas, startStep: info["start_step"] as? Int, endStep: info["last_step"] as? Int,
                    forceFullDenoise: info["force_full_denoise"] as! Bool) ?? []
            // Bit-exact below 16 steps; karras at 16 goes through torch's vectorized pow,
            // kl_optimal through its vectorized tan and exponential through its exp (SLEEF): a few
            // ulps (as in SchedulerTests).
            for (a, b) in zip(sigmas, (info["sigmas"] as! [Double]).map { Float($0) }) {
                let computed = Int(Double(info["steps"] as! Int) / (info["denoise"] as! Double))
                let vectorized = computed >= 16 || scheduler == .klOptimal || scheduler == .exponential
                XCTAssertLessThanOrEqual(abs(a - b), vectorized ? 8 * b.ulp : 0, "\(name): sigmas")
            }
            var plan = SamplingPlan(sampler: sampler, sigmas: sigmas, seed: UInt64(info["seed"] as! String)!)
            plan.addNoise = info["add_noise"] as! Bool
            let shape = info["shape"] as! [Int]
            let latent = info["has_latent"] as! Bool ? try Self.file.tensor(name + ".latent") : Tensor(shape: shape)
            let result = try plan.run(
                latent: latent, batchIndex: info["batch_index"] as? [Int], sampling: sampling,
                denoiser: denoiser(sampling, cfg: info["cfg"] as! Double)
            ).samples
            let expected = try Self.file.tensor(name)
            XCTAssertEqual(result.shape, expected.shape, name)
            let scale = expected.scalars.map(abs).max()!
            let error = zip(result.scalars, expected.scalars).map { abs($0 - $1) }.max()! / scale
            if error > worst.1 { worst = (name, error) }
            // float32 rounding: the stand-in's tanh and op order differ from torch's by a few ulps.
            // LMS on linear_quadratic's schedule (14.61, 14.43, 14.25, then 12.54, 7.79)
            // extrapolates from closely spaced sigmas: its weights reach 4792, their sum over
            // the step 2047x the step, so those ulps are amplified about a hundredfold.
            let bound: Float = name == "lms.linear_quadratic" ? 1e-4 : 2e-5
            XCTAssertLessThan(error, bound, "\(name): relative error \(error)")
        }
        print("worst sampler case: \(worst.0) relative error \(worst.1)")
    }

    func testSeedSequenceAgainstNumPy() throws {
        let cases =
            try JSONSerialization.jsonObject(with: Data(Self.file.metadata["seed_sequences"]!.utf8)) as! [[String: Any]]
        XCTAssertEqual(cases.count, 6)
        for info in cases {
            let sequence = SeedSequence(
                entropy: UInt64(info["entropy"] as! String)!,
                spawnKey: (info["spawn_key"] as! [String]).map { UInt64($0)! },
                poolSize: info["pool_size"] as! Int)
            XCTAssertEqual(sequence.generateState(6), (info["words"] as! [Int]).map(UInt32.init), "\(info)")
        }
    }

    /// torchsde's BrownianTree increments, bit for bit: the same nodes, seeds and float32 bridge.
    func testBrownianTreeAgainstTorchSDE() throws {
        let cases =
            try JSONSerialization.jsonObject(with: Data(Self.file.metadata["brownian"]!.utf8))
            as! [String: [String: Any]]
        XCTAssertEqual(cases.count, 10)
        var trees: [String: BrownianTree] = [:]
        for (name, info) in cases.sorted(by: { $0.key < $1.key }) {
            let seed = info["seed"] as! String
            let tree =
                try trees[seed]
                ?? BrownianTree(
                    shape: info["shape"] as! [Int], t0: info["t0"] as! Double,
                    t1: info["t1"] as! Double, seed: UInt64(seed)!)
            trees[seed] = tree
            let w = try tree.increment(from: info["ta"] as! Double, to: info["tb"] as! Double)
            XCTAssertEqual(w.scalars, try Self.file.tensor(name).scalars, name)
        }
    }

    /// Every name of ComfyUI's menu runs (`Samplers.sample` still refuses a name without an algorithm).
    func testEveryMenuSamplerIsImplemented() {
        XCTAssertEqual(SamplerName.implemented, SamplerName.allCases)
    }
}
