import Foundation
import LatentflowTensor

/// DPM-Solver's first-, second- and third-order steps in t = −log σ on the noise prediction
/// ε = (x − D(x, σ)) / σ, shared by dpm_fast and dpm_adaptive. Each step's scalar coefficient is
/// formed first and then scales the tensor, as torch evaluates k-diffusion's expressions.
///
/// Matches: ComfyUI `comfy/k_diffusion/sampling.py` `DPMSolver` (`t`, `sigma`, `eps`,
/// `dpm_solver_1_step`, `dpm_solver_2_step`, `dpm_solver_3_step`).
struct DPMSolverSteps {
    let denoiser: Denoiser

    static func t(_ sigma: Float) -> Float { -logf(sigma) }
    static func sigma(_ t: Float) -> Float { expf(-t) }

    /// The model's noise prediction at time `t`.
    func eps(_ x: Tensor, _ t: Float) throws -> Tensor {
        let sigma = Self.sigma(t)
        return try x.subtracting(denoiser(x, sigma)).dividing(Samplers.scalar(sigma))
    }

    func firstOrder(_ x: Tensor, _ t: Float, _ tNext: Float, eps: Tensor) throws -> Tensor {
        try x.subtracting(eps.scaled(by: Self.sigma(tNext) * expm1f(tNext - t)))
    }

    /// The midpoint's prediction `eps_r1` at t + r1·h (k-diffusion caches it between the second-
    /// and third-order steps of one adaptive step, which both use r1 = 1/3).
    func intermediate(_ x: Tensor, _ t: Float, _ tNext: Float, r1: Float, eps: Tensor) throws -> Tensor {
        let h = tNext - t
        let s1 = t + r1 * h
        return try self.eps(x.subtracting(eps.scaled(by: Self.sigma(s1) * expm1f(r1 * h))), s1)
    }

    func secondOrder(
        _ x: Tensor, _ t: Float, _ tNext: Float, r1: Double = 1.0 / 2, eps: Tensor, epsR1: Tensor? = nil
    ) throws -> Tensor {
        let h = tNext - t
        let epsR1 = try epsR1 ?? intermediate(x, t, tNext, r1: Float(r1), eps: eps)
        let sigmaNext = Self.sigma(tNext)
        return try x.subtracting(eps.scaled(by: sigmaNext * expm1f(h)))
            .subtracting(epsR1.subtracting(eps).scaled(by: sigmaNext / Float(2 * r1) * expm1f(h)))
    }

    func thirdOrder(_ x: Tensor, _ t: Float, _ tNext: Float, eps: Tensor, epsR1: Tensor? = nil) throws -> Tensor {
        let (r1, r2) = (1.0 / 3, 2.0 / 3)
        let h = tNext - t
        let epsR1 = try epsR1 ?? intermediate(x, t, tNext, r1: Float(r1), eps: eps)
        let s2 = t + Float(r2) * h, r2h = Float(r2) * h
        let sigmaS2 = Self.sigma(s2)
        let u2 = try x.subtracting(eps.scaled(by: sigmaS2 * expm1f(r2h)))
            .subtracting(epsR1.subtracting(eps).scaled(by: sigmaS2 * Float(r2 / r1) * (expm1f(r2h) / r2h - 1)))
        let epsR2 = try self.eps(u2, s2)
        let sigmaNext = Self.sigma(tNext)
        return try x.subtracting(eps.scaled(by: sigmaNext * expm1f(h)))
            .subtracting(epsR2.subtracting(eps).scaled(by: sigmaNext / Float(r2) * (expm1f(h) / h - 1)))
    }

    /// k-diffusion's DPM samplers run from the schedule's largest sigma to its smallest positive
    /// one: ComfyUI's `ksampler` wrapper drops a trailing 0 (`sigma_min = sigmas[-2]`).
    static func range(_ sigmas: [Float], sampler: String) throws -> (tStart: Float, tEnd: Float) {
        guard let last = sigmas.last, let first = sigmas.first else { throw SamplingError("\(sampler): no sigmas") }
        let sigmaMin = last > 0 || sigmas.count < 2 ? last : sigmas[sigmas.count - 2]
        guard sigmaMin > 0, first > 0 else {
            throw SamplingError("\(sampler): sigma_min and sigma_max must not be 0 (sigmas \(sigmas))")
        }
        return (t(first), t(sigmaMin))
    }

    /// The ancestral split of a step from t to tNext with eta (`dpm_solver_fast/adaptive`):
    /// where it steps to (never past tEnd) and the noise it adds back.
    static func ancestral(_ t: Float, _ tNext: Float, tEnd: Float, eta: Double) -> (tNext: Float, up: Float) {
        guard eta != 0 else { return (tNext, 0) }
        let (from, to) = (sigma(t), sigma(tNext))
        let up = min(to, Float(eta) * (to * to * (from * from - to * to) / (from * from)).squareRoot())
        let down = (to * to - up * up).squareRoot()
        let target = min(tEnd, Self.t(down))
        return (target, (to * to - sigma(target) * sigma(target)).squareRoot())
    }
}

/// DPM-Solver-Fast: `steps` model evaluations spread over third-order steps (ending with a
/// second- and first-order one, or one of order steps mod 3), uniform in t = −log σ between
/// the schedule's first sigma and its last positive one. Only those two sigmas are used.
///
/// Matches: ComfyUI `comfy/samplers.py` `ksampler("dpm_fast")` and `comfy/k_diffusion/sampling.py`
/// `sample_dpm_fast` / `DPMSolver.dpm_solver_fast` (eta 0, so no step noise).
struct DPMSolverFast: SamplerAlgorithm {
    var names: [SamplerName] { [.dpmFast] }

    func sample(
        denoiser: Denoiser, x: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        let (tStart, tEnd) = try DPMSolverSteps.range(sigmas, sampler: "dpm_fast")
        let evaluations = sigmas.count - 1
        let m = evaluations / 3 + 1
        let ts = torchLinspace(tStart, tEnd, m + 1)
        let orders =
            evaluations % 3 == 0
            ? Array(repeating: 3, count: m - 2) + [2, 1]
            : Array(repeating: 3, count: m - 1) + [evaluations % 3]
        return try withoutActuallyEscaping(denoiser) { denoiser in
            try run(DPMSolverSteps(denoiser: denoiser), x: x, ts: ts, orders: orders, onStep: onStep)
        }
    }

    private func run(
        _ solver: DPMSolverSteps, x: Tensor, ts: [Float], orders: [Int], onStep: StepCallback
    ) throws -> Tensor {
        var x = x
        for (i, order) in orders.enumerated() {
            let (t, tNext) = (ts[i], ts[i + 1])
            let eps = try solver.eps(x, t)
            let denoised = try x.subtracting(eps.scaled(by: DPMSolverSteps.sigma(t)))
            switch order {
            case 1: x = try solver.firstOrder(x, t, tNext, eps: eps)
            case 2: x = try solver.secondOrder(x, t, tNext, eps: eps)
            default: x = try solver.thirdOrder(x, t, tNext, eps: eps)
            }
            try onStep(i + 1, orders.count, denoised)
        }
        return x
    }
}

/// DPM-Solver-23 (or -12 at order 2) with adaptive step size: each step compares the lower- and
/// higher-order solutions, and a PID controller on that error accepts or rejects the step and
/// sizes the next one, from the schedule's first sigma to its last positive one (only those two
/// sigmas are used; the result keeps that last sigma's noise). With eta > 0 each accepted step
/// adds step noise (ancestral).
///
/// Matches: ComfyUI `comfy/samplers.py` `ksampler("dpm_adaptive")` and
/// `comfy/k_diffusion/sampling.py` `sample_dpm_adaptive` / `DPMSolver.dpm_solver_adaptive` /
/// `PIDStepSizeController`, with `SamplerDPMAdaptative`'s options.
struct DPMSolverAdaptive: SamplerAlgorithm {
    struct Options: Sendable {
        var order = 3
        var rtol = 0.05, atol = 0.0078, hInit = 0.05
        var pcoeff = 0.0, icoeff = 1.0, dcoeff = 0.0
        var acceptSafety = 0.81, eta = 0.0, sNoise = 1.0
    }
    var options = Options()

    var names: [SamplerName] { [.dpmAdaptive] }

    func sample(
        denoiser: Denoiser, x start: Tensor, sigmas: [Float], sampling: ModelSampling, noise: inout StepNoise,
        onStep: StepCallback
    ) throws -> Tensor {
        guard options.order == 2 || options.order == 3 else {
            throw SamplingError("dpm_adaptive: order should be 2 or 3, not \(options.order)")
        }
        let (tStart, tEnd) = try DPMSolverSteps.range(sigmas, sampler: "dpm_adaptive")
        let forward = tEnd > tStart
        if !forward && options.eta != 0 { throw SamplingError("dpm_adaptive: eta must be 0 for reverse sampling") }
        let pid = PIDStepSizeController(
            h: abs(options.hInit) * (forward ? 1 : -1), pcoeff: options.pcoeff, icoeff: options.icoeff,
            dcoeff: options.dcoeff, order: options.eta != 0 ? 1.5 : Double(options.order),
            acceptSafety: options.acceptSafety)
        return try withoutActuallyEscaping(denoiser) { denoiser in
            try run(
                DPMSolverSteps(denoiser: denoiser), x: start, tStart: tStart, tEnd: tEnd, forward: forward,
                pid: pid, total: sigmas.count - 1, noise: &noise, onStep: onStep)
        }
    }

    private func run(
        _ solver: DPMSolverSteps, x start: Tensor, tStart: Float, tEnd: Float, forward: Bool,
        pid: PIDStepSizeController, total: Int, noise: inout StepNoise, onStep: StepCallback
    ) throws -> Tensor {
        var pid = pid
        let (atol, rtol) = (Float(options.atol), Float(options.rtol))
        var (s, x, previous) = (tStart, start, start)
        var steps = 0
        // torch compares against t_end ∓ 1e-5 in float32, and adds the Python-float step to s in float32.
        while forward ? s < tEnd - Float(1e-5) : s > tEnd + Float(1e-5) {
            let proposed = s + Float(pid.h)
            let t = forward ? min(tEnd, proposed) : max(tEnd, proposed)
            let (target, up) = DPMSolverSteps.ancestral(s, t, tEnd: tEnd, eta: options.eta)
            let eps = try solver.eps(x, s)
            let denoised = try x.subtracting(eps.scaled(by: DPMSolverSteps.sigma(s)))
            let low: Tensor, high: Tensor
            if options.order == 2 {
                low = try solver.firstOrder(x, s, target, eps: eps)
                high = try solver.secondOrder(x, s, target, eps: eps)
            } else {
                let epsR1 = try solver.intermediate(x, s, target, r1: Float(1.0 / 3), eps: eps)
                low = try solver.secondOrder(x, s, target, r1: 1.0 / 3, eps: eps, epsR1: epsR1)
                high = try solver.thirdOrder(x, s, target, eps: eps, epsR1: epsR1)
            }
            let error = Self.error(low: low, high: high, previous: previous, atol: atol, rtol: rtol)
            if pid.proposeStep(error: error) {
                previous = low
                x = high
                // Every accepted step draws (as torch does, su 0 or not) once there is noise at all.
                if options.eta != 0 { x = try x.adding(noise.next(like: x).scaled(by: up * Float(options.sNoise))) }
                s = t
            }
            steps += 1
            try onStep(steps, max(steps, total), denoised)
        }
        return x
    }

    /// ‖(low − high) / max(atol, rtol·max(|low|, |previous|))‖₂ / √n, in float32 like torch's norm.
    static func error(low: Tensor, high: Tensor, previous: Tensor, atol: Float, rtol: Float) -> Double {
        var sum = 0.0
        low.withUnsafeBufferPointer { l in
            high.withUnsafeBufferPointer { h in
                previous.withUnsafeBufferPointer { p in
                    for i in l.indices {
                        let delta = max(atol, rtol * max(abs(l[i]), abs(p[i])))
                        let ratio = (l[i] - h[i]) / delta
                        sum += Double(ratio * ratio)
                    }
                }
            }
        }
        return Double(Float(sum.squareRoot()) / Float(Double(low.count).squareRoot()))
    }
}

/// k-diffusion's PID controller for adaptive step sizes, in Python floats (Double).
///
/// Matches: ComfyUI `comfy/k_diffusion/sampling.py` `PIDStepSizeController`.
struct PIDStepSizeController {
    var h: Double
    let b1: Double, b2: Double, b3: Double
    let acceptSafety: Double
    let eps = 1e-8
    var errors: [Double] = []

    init(h: Double, pcoeff: Double, icoeff: Double, dcoeff: Double, order: Double, acceptSafety: Double) {
        self.h = h
        (b1, b2, b3) = ((pcoeff + icoeff + dcoeff) / order, -(pcoeff + 2 * dcoeff) / order, dcoeff / order)
        self.acceptSafety = acceptSafety
    }

    /// Scales `h` by the limited factor; whether the step that produced `error` is accepted.
    mutating func proposeStep(error: Double) -> Bool {
        let inverse = 1 / (error + eps)
        if errors.isEmpty { errors = [inverse, inverse, inverse] }
        errors[0] = inverse
        var factor = pow(errors[0], b1) * pow(errors[1], b2) * pow(errors[2], b3)
        factor = 1 + atan(factor - 1)
        let accept = factor >= acceptSafety
        if accept { (errors[2], errors[1]) = (errors[1], errors[0]) }
        h *= factor
        return accept
    }
}
