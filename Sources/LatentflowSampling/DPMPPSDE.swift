import Foundation
import LatentflowTensor

/// DPM-Solver++ (stochastic): a half step in λ to an intermediate prediction, then the full step
/// with it, each adding Brownian-tree noise scaled by the ancestral σ_up; the denoised prediction
/// into σ = 0. The tree is seeded with the sampling seed, so that the same seed gives the same
/// image whatever the step count's subdivisions. Scalars are float32 as ComfyUI's 0-dim tensors
/// are; `dpmpp_sde_gpu` is the same on CPU.
///
/// Matches: ComfyUI `comfy/k_diffusion/sampling.py` `sample_dpmpp_sde` with eta 1, s_noise 1, r ½,
/// for eps / v-prediction models (half-log-SNR λ = −log σ).
struct DPMPPSDE: SamplerAlgorithm {
    var names: [SamplerName] { [.dpmppSDE, .dpmppSDEGPU] }

    func sample(
        denoiser: Denoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        let treeNoise = try BrownianTreeNoise(shape: x.shape, sigmas: sigmas, seed: noise.seed)
        return try Samplers.stepping(from: x, sigmas: sigmas, denoiser: denoiser, onStep: onStep) { step, x, denoised in
            if step.next == 0 { return denoised }
            return try Self.step(x, denoised, sigma: step.sigma, next: step.next, denoiser: denoiser, noise: treeNoise)
        }
    }

    static func step(
        _ x: Tensor, _ denoised: Tensor, sigma: Float, next: Float, denoiser: Denoiser,
        noise: BrownianTreeNoise
    ) throws -> Tensor {
        let r: Float = 0.5
        let lambdaS = -logf(sigma), lambdaT = -logf(next)
        let h = lambdaT - lambdaS
        let lambdaS1 = lambdaS + r * h
        let sigmaS1 = expf(-lambdaS1)
        let alphaS = sigma * expf(lambdaS), alphaS1 = sigmaS1 * expf(lambdaS1), alphaT = next * expf(lambdaT)

        // Step 1, to σ_s1.
        var (down, up) = Samplers.ancestralStep(from: expf(-lambdaS), to: expf(-lambdaS1))
        var hStep = -logf(down) - lambdaS
        var x2 = try x.scaled(by: alphaS1 / alphaS * expf(-hStep))
            .subtracting(denoised.scaled(by: alphaS1 * expm1f(-hStep)))
        x2 = try x2.adding(noise(from: sigma, to: sigmaS1).scaled(by: alphaS1).scaled(by: up))
        let denoised2 = try denoiser(x2, sigmaS1)

        // Step 2, to σ_next, with the intermediate prediction (fac = 1 / (2r) = 1 keeps only it).
        (down, up) = Samplers.ancestralStep(from: expf(-lambdaS), to: expf(-lambdaT))
        hStep = -logf(down) - lambdaS
        let result = try x.scaled(by: alphaT / alphaS * expf(-hStep))
            .subtracting(denoised2.scaled(by: alphaT * expm1f(-hStep)))
        return try result.adding(noise(from: sigma, to: next).scaled(by: alphaT).scaled(by: up))
    }
}
