import LatentflowTensor

/// Heun++: Euler into the last step, Heun with σ-weighted derivatives before it, and a
/// three-point weighting earlier on.
///
/// Matches: ComfyUI `comfy/k_diffusion/sampling.py` `sample_heunpp2` with s_churn 0.
struct HeunPP2: SamplerAlgorithm {
    var names: [SamplerName] { [.heunpp2] }

    func sample(
        denoiser: Denoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        try Samplers.stepping(from: x, sigmas: sigmas, denoiser: denoiser, onStep: onStep) { step, x, denoised in
            try Self.step(x, denoised, sigmas: sigmas, i: step.i, denoiser: denoiser)
        }
    }

    static func step(_ x: Tensor, _ denoised: Tensor, sigmas: [Float], i: Int, denoiser: Denoiser) throws -> Tensor {
        let sigma = sigmas[i], next = sigmas[i + 1], end = sigmas[sigmas.count - 1]
        let d = try Samplers.derivative(x, denoised, sigma: sigma)
        let dt = next - sigma
        if next == end { return try x.adding(d.scaled(by: dt)) }
        let x2 = try x.adding(d.scaled(by: dt))
        let d2 = try Samplers.derivative(x2, denoiser(x2, next), sigma: next)
        if sigmas[i + 2] == end {
            let w2 = next / (2 * sigmas[0]), w1 = 1 - w2
            return try x.adding(d.scaled(by: w1).adding(d2.scaled(by: w2)).scaled(by: dt))
        }
        let after = sigmas[i + 2]
        let x3 = try x2.adding(d2.scaled(by: after - next))
        let d3 = try Samplers.derivative(x3, denoiser(x3, after), sigma: after)
        let w2 = next / (3 * sigmas[0]), w3 = after / (3 * sigmas[0]), w1 = 1 - w2 - w3
        return try x.adding(d.scaled(by: w1).adding(d2.scaled(by: w2)).adding(d3.scaled(by: w3)).scaled(by: dt))
    }
}
