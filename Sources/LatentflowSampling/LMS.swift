import LatentflowTensor

/// Linear multistep (order up to 4): the derivatives (oldest first) weighted by the integrals
/// over [σ_i, σ_i+1] of their Lagrange basis polynomials in σ; the denoised prediction into 0.
///
/// Matches: ComfyUI `comfy/k_diffusion/sampling.py` `sample_lms` (order 4 from the menu;
/// `SamplerLMS` sets it) and `linear_multistep_coeff` (Katherine Crowson's k-diffusion).
struct LMS: SamplerAlgorithm {
    var order = 4

    var names: [SamplerName] { [.lms] }

    func sample(
        denoiser: Denoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        var derivatives: [Tensor] = []  // newest last
        return try Samplers.stepping(from: x, sigmas: sigmas, denoiser: denoiser, onStep: onStep) { step, x, denoised in
            derivatives = Array(
                (derivatives + [try Samplers.derivative(x, denoised, sigma: step.sigma)]).suffix(max(order, 1)))
            return step.next == 0 ? denoised : try Self.step(x, derivatives: derivatives, sigmas: sigmas, i: step.i)
        }
    }

    static func step(_ x: Tensor, derivatives: [Tensor], sigmas: [Float], i: Int) throws -> Tensor {
        let order = derivatives.count
        var result = x
        var sum: Tensor?
        for (j, d) in derivatives.reversed().enumerated() {
            let term = d.scaled(by: Float(coefficient(order: order, sigmas: sigmas, i: i, j: j)))
            sum = try sum.map { try $0.adding(term) } ?? term
        }
        if let sum { result = try result.adding(sum) }
        return result
    }

    /// ∫ from σ_i to σ_i+1 of Π_{k≠j} (τ − σ_{i−k}) / (σ_{i−j} − σ_{i−k}) dτ as ComfyUI gets it:
    /// `scipy.integrate.quad` settles on its first 21-point Gauss–Kronrod pass for these
    /// polynomials, and under NumPy 2's promotion rules the integrand is evaluated in float32
    /// (τ meets float32 sigmas), the sum in double. Reproduced node for node.
    static func coefficient(order: Int, sigmas: [Float], i: Int, j: Int) -> Double {
        func basis(_ tau: Double) -> Double {
            var product: Float = 1
            for k in 0..<order where k != j {
                product *= (Float(tau) - sigmas[i - k]) / (sigmas[i - j] - sigmas[i - k])
            }
            return Double(product)
        }
        return gaussKronrod21(basis, from: Double(sigmas[i]), to: Double(sigmas[i + 1]))
    }

    /// QUADPACK's `qk21`: the 21-point Kronrod rule, summed in its order.
    static func gaussKronrod21(_ f: (Double) -> Double, from a: Double, to b: Double) -> Double {
        let nodes = [
            0.995657163025808080735527280689003, 0.973906528517171720077964012084452,
            0.930157491355708226001207180059508, 0.865063366688984510732096688423493,
            0.780817726586416897063717578345042, 0.679409568299024406234327365114874,
            0.562757134668604683339000099272694, 0.433395394129247190799265943165784,
            0.294392862701460198131126603103866, 0.148874338981631210884826001129720, 0.0,
        ]
        let weights = [
            0.011694638867371874278064396062192, 0.032558162307964727478818972459390,
            0.054755896574351996031381300244580, 0.075039674810919952767043140916190,
            0.093125454583697605535065465083366, 0.109387158802297641899210590325805,
            0.123491976262065851077752717747021, 0.134709217311473325928054001771707,
            0.142775938577060080797094273138717, 0.147739104901338491374841515972068,
            0.149445554002916905664936468389821,
        ]
        let centre = 0.5 * (a + b), halfLength = 0.5 * (b - a)
        var sum = weights[10] * f(centre)
        // The Gauss nodes (odd indices) first, then the Kronrod-only ones, as qk21 adds them.
        for index in [1, 3, 5, 7, 9, 0, 2, 4, 6, 8] {
            let offset = halfLength * nodes[index]
            sum += weights[index] * (f(centre - offset) + f(centre + offset))
        }
        return sum * halfLength
    }
}
