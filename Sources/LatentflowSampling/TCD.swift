import Foundation
import LatentflowTensor

/// TCD (Trajectory Consistency Distillation) strategic stochastic sampling: each step turns the
/// prediction into the point x_s = sqrt(ᾱ_s)·x₀ + sqrt(1 − ᾱ_s)·ε at s = ⌊(1 − γ)·t_next⌋, then
/// (for γ > 0, before the last step) noises it forward to the next sigma; γ = 0 is deterministic,
/// γ = 1 is LCM-like. No ComfyUI menu name: the ComfyUI-TCD node pack's `TCDModelSamplingDiscrete`
/// hands it out as a SAMPLER, with ᾱ_s fixed for the SIGMAS it hands out with it.
///
/// Matches: JettHu/ComfyUI-TCD `__init__.py` `sample_tcd` (and diffusers' `TCDScheduler.step`,
/// which is the same step on the variance-preserving latent; the TCD paper's Algorithm 4).
public struct TCD: SamplerAlgorithm {
    public var names: [SamplerName] { [] }
    /// γ, the stochasticity.
    public let eta: Float
    /// ᾱ at each sigma's s-timestep; the last is ᾱ at timestep 0.
    public let alphaProdS: [Float]

    public init(eta: Float, alphaProdS: [Float]) {
        self.eta = eta
        self.alphaProdS = alphaProdS
    }

    /// The sampler `TCDModelSamplingDiscrete` pairs with `sigmas`: s = ⌊(1 − γ)·timestep(σ)⌋ in
    /// float32, the last forced to 0, looked up in the float32 ᾱ table.
    public init(eta: Double, sigmas: [Float], sampling: ModelSampling) {
        let table = TCD.alphasCumprod()
        let factor = Float(1 - eta)
        var alphas = sigmas.map { sigma -> Float in
            let s = Int((factor * sampling.timestep(sigma)).rounded(.down))
            return table[min(max(s, 0), table.count - 1)]
        }
        if !alphas.isEmpty { alphas[alphas.count - 1] = table[0] }
        self.init(eta: Float(eta), alphaProdS: alphas)
    }

    /// ComfyUI-TCD's `alphas_cumprod`: `torch.cumprod(1 − β, dtype=float32)` of ComfyUI's float64
    /// linear betas, which casts each factor to float32 and (on CPU) accumulates in double.
    public static func alphasCumprod(
        linearStart: Double = 0.00085, linearEnd: Double = 0.012, timesteps: Int = 1000
    ) -> [Float] {
        var product = 1.0
        return torchLinspace(linearStart.squareRoot(), linearEnd.squareRoot(), timesteps).map { root in
            product *= Double(Float(1 - root * root))
            return Float(product)
        }
    }

    public func sample(
        denoiser: Denoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        // sample_tcd's default_noise_sampler(x) has no seed: torch's global generator, which
        // prepare_noise seeded and drew the initial noise from.
        try run(
            denoiser: denoiser, x: x, sigmas: sigmas, noise: { try noise.nextAfterInitialNoise(like: $0) },
            onStep: onStep)
    }

    /// The sampling loop with its noise drawn by `noise` (one call per stochastic step).
    public func run(
        denoiser: Denoiser, x start: Tensor, sigmas: [Float], noise: (Tensor) throws -> Tensor, onStep: StepCallback
    ) throws -> Tensor {
        guard alphaProdS.count >= sigmas.count else {
            throw SamplingError(
                "the TCD sampler was made for \(alphaProdS.count) sigmas but is given \(sigmas.count): connect the SIGMAS of the same TCDModelSamplingDiscrete node"
            )
        }
        var x = start
        let total = sigmas.count - 1
        for i in 0..<max(total, 0) {
            let sigma = sigmas[i], next = sigmas[i + 1], alpha = alphaProdS[i + 1]
            let x0 = try denoiser(x, sigma)
            let eps = try Samplers.derivative(x, x0, sigma: sigma)
            // The callback (SamplerCustom's denoised_output) sees x_s, as sample_tcd's does.
            let noised = try x0.scaled(by: alpha.squareRoot()).adding(eps.scaled(by: (1 - alpha).squareRoot()))
            if eta > 0, next > 0 {
                let spread = (next * next + 1 - 1 / alpha).squareRoot()
                x = try noised.dividing(Samplers.scalar(alpha.squareRoot())).adding(noise(noised).scaled(by: spread))
            } else {
                x = noised.scaled(by: (next * next + 1).squareRoot())
            }
            try onStep(i + 1, total, noised)
        }
        return x
    }
}
