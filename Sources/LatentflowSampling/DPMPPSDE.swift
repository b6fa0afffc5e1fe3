import Foundation
import LatentflowTensor

/// DPM-Solver++ (stochastic): a half step in λ to an intermediate prediction, then the full step
/// with it, each adding Brownian-tree noise scaled by the ancestral σ_up; the denoised prediction
/// into σ = 0. The tree is seeded with the sampling seed, so that the same seed gives the same
/// image whatever the step count's subdivisions. Scalars are float32 as ComfyUI's 0-dim tensors
/// are; `dpmpp_sde_gpu` is the same on CPU.
///
/// Matches: ComfyUI `comfy/k_diffusion/sampling.py` `sample_dpmpp_sde` (eta 1, s_noise 1, r ½
/// from the menu; `SamplerDPMPP_SDE` sets them), for eps / v-prediction models (half-log-SNR
/// λ = −log σ).
struct DPMPPSDE: SamplerAlgorithm {
    /// The ancestral share of each step's noise, the noise's scale, and where in λ the
    /// intermediate point lies (as a fraction of the step).
    var eta = 1.0, sNoise = 1.0, r = 0.5

    var names: [SamplerName] { [.dpmppSDE, .dpmppSDEGPU] }

    func sample(
        denoiser: Denoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        let treeNoise = try BrownianTreeNoise(shape: x.shape, sigmas: sigmas, seed: noise.seed)
        return try Samplers.stepping(from: x, sigmas: sigmas, denoiser: denoiser, onStep: onStep) { step, x, denoised in
            if step.next == 0 { return denoised }
            return try self.step(x, denoised, sigma: step.sigma, next: step.next, denoiser: denoiser, noise: treeNoise)
        }
    }

    func step(
        _ x: Tensor, _ denoised: Tensor, sigma: Float, next: Float, denoiser: Denoiser,
        noise: BrownianTreeNoise
    ) throws -> Tensor {
        let r = Float(r)
        // fac = 1 / (2r) weighs the intermediate prediction: r ½ keeps only it.
        let fac = 1 / (2 * self.r)
        let addsNoise = eta > 0 && sNoise > 0
        let lambdaS = -logf(sigma), lambdaT = -logf(next)
        let h = lambdaT - lambdaS
        let lambdaS1 = lambdaS + r * h
        let sigmaS1 = expf(-lambdaS1)
        let alphaS = sigma * expf(lambdaS), alphaS1 = sigmaS1 * expf(lambdaS1), alphaT = next * expf(lambdaT)

        // Step 1, to σ_s1.
        var (down, up) = Samplers.ancestralStep(from: expf(-lambdaS), to: expf(-lambdaS1), eta: eta)
        var hStep = -logf(down) - lambdaS
        var x2 = try x.scaled(by: alphaS1 / alphaS * expf(-hStep))
            .subtracting(denoised.scaled(by: alphaS1 * expm1f(-hStep)))
        if addsNoise {
            let stepNoise = try noise(from: sigma, to: sigmaS1).scaled(by: alphaS1)
            x2 = try x2.adding(stepNoise.scaled(by: Float(sNoise)).scaled(by: up))
        }
        let denoised2 = try denoiser(x2, sigmaS1)

        // Step 2, to σ_next, with the predictions mixed by fac.
        (down, up) = Samplers.ancestralStep(from: expf(-lambdaS), to: expf(-lambdaT), eta: eta)
        hStep = -logf(down) - lambdaS
        let mixed =
            fac == 1
            ? denoised2 : try denoised.scaled(by: Float(1 - fac)).adding(denoised2.scaled(by: Float(fac)))
        let result = try x.scaled(by: alphaT / alphaS * expf(-hStep))
            .subtracting(mixed.scaled(by: alphaT * expm1f(-hStep)))
        guard addsNoise else { return result }
        let stepNoise = try noise(from: sigma, to: next).scaled(by: alphaT)
        return try result.adding(stepNoise.scaled(by: Float(sNoise)).scaled(by: up))
    }
}
