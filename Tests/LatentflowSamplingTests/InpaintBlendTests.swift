import Foundation
import LatentflowIO
import LatentflowSampling
import LatentflowTensor
import XCTest

/// The noise-mask blend around a stand-in denoiser, against ComfyUI v0.3.64's own KSAMPLER,
/// KSamplerX0Inpaint and prepare_mask driving the same stand-in (scripts/make_inpaint_fixtures.py).
final class InpaintBlendTests: XCTestCase {
    static let file = try! SafeTensorsFile(
        path: Bundle.module.url(forResource: "inpaint_blend", withExtension: "safetensors", subdirectory: "Fixtures")!
            .path)

    /// The script's stand-in: eps = tanh(0.7·x_in ± context)·0.9 + 0.00005·t, CFG 2.
    static func standIn(_ sampling: ModelSampling) -> Denoiser {
        func predict(_ x: Tensor, _ sigma: Float, _ context: Float) throws -> Tensor {
            let eps = sampling.calculateInput(sigma: sigma, x).scaled(by: 0.7, adding: context).mapScalars {
                tanhf($0) * 0.9 + sampling.timestep(sigma) * 0.00005
            }
            return try sampling.calculateDenoised(sigma: sigma, modelOutput: eps, input: x)
        }
        return { x, sigma in
            let cond = try predict(x, sigma, 0.3), uncond = try predict(x, sigma, -0.2)
            return try uncond.adding(cond.subtracting(uncond).scaled(by: 2))
        }
    }

    func testBlendMatchesKSamplerX0Inpaint() throws {
        let sampling = ModelSampling()
        let latent = try Self.file.tensor("latent"), mask = try Self.file.tensor("mask")
        for name in ["euler", "ddim", "lcm"] {
            var plan = SamplingPlan(
                sampler: SamplerName(rawValue: name)!, sigmas: try Self.file.tensor("sigmas").scalars, seed: 123)
            plan.denoiseMask = mask
            let result = try plan.run(
                latent: latent, batchIndex: nil, sampling: sampling, denoiser: Self.standIn(sampling)
            ).samples
            let expected = try Self.file.tensor(name)
            XCTAssertEqual(result.shape, expected.shape, name)
            let scale = expected.scalars.map(abs).max()!
            let error = zip(result.scalars, expected.scalars).map { abs($0 - $1) }.max()! / scale
            // float32 rounding of the stand-in's tanh and the blend's op order: a few ulps.
            print("inpaint blend \(name) vs ComfyUI: max relative error \(error)")
            XCTAssertLessThan(error, 2e-5, "\(name): relative error \(error)")
        }
    }

    /// Where the mask is 0 the latent comes back exactly; where 1 it is sampled.
    func testMaskedOutRegionIsKept() throws {
        let latent = Tensor(shape: [1, 4, 4, 4], repeating: 0.5)
        var mask = Tensor(shape: [1, 1, 4, 4])
        mask.withUnsafeMutableBufferPointer { for i in 0..<8 { $0[i] = 1 } }  // top half sampled
        var plan = SamplingPlan(sampler: .euler, sigmas: [14.6146, 3, 0], seed: 1)
        plan.denoiseMask = mask
        let out = try plan.run(
            latent: latent, batchIndex: nil, sampling: ModelSampling(), denoiser: { x, _ in x.scaled(by: 0) }
        ).samples
        for c in 0..<4 {
            for i in 0..<16 {
                let value = out.scalars[c * 16 + i]
                if i < 8 {
                    XCTAssertEqual(value, 0, accuracy: 1e-6)
                } else {
                    XCTAssertEqual(value, 0.5, accuracy: 1e-6)
                }
            }
        }
    }

    func testBadMaskIsAClearError() throws {
        var plan = SamplingPlan(sampler: .euler, sigmas: [1, 0], seed: 1)
        plan.denoiseMask = Tensor(shape: [5])
        XCTAssertThrowsError(
            try plan.run(latent: Tensor(shape: [1, 4, 4, 4]), batchIndex: nil, sampling: ModelSampling()) { x, _ in x }
        ) { error in
            XCTAssertTrue("\(error)".contains("noise mask"), "\(error)")
        }
    }
}
