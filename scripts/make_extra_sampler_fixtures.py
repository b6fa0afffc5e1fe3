"""Reference outputs for the samplers added after the ComfyUI-run fixtures (samplers.safetensors):
dpm_fast, dpm_adaptive, deis, sa_solver, sa_solver_pece and the CFG++ family.

Run by hand (never by CI) in a venv with torch, numpy and safetensors:
    python3 scripts/make_extra_sampler_fixtures.py
Writes Tests/LatentflowSamplingTests/Fixtures/extra_samplers.safetensors (a few tens of KB).

No ComfyUI checkout is needed: each sampler below is a transcription, op for op in float32 torch,
of ComfyUI v0.3.64's function (comfy/k_diffusion/sampling.py `DPMSolver`, `sample_dpm_fast`,
`sample_dpm_adaptive`, `PIDStepSizeController`, `sample_deis`, `sample_sa_solver`, the `*_cfg_pp`
samplers, `res_multistep` with cfg_pp and `sample_gradient_estimation` with cfg_pp;
comfy/k_diffusion/deis.py `edm2t` / `get_deis_coeff_list` (tab mode, with its autograd
integrand); comfy/k_diffusion/sa_solver.py; comfy/samplers.py `ksampler`'s dpm_fast/dpm_adaptive
wrappers, `cfg_function` with a `sampler_post_cfg_function` and `disable_cfg1_optimization`).
Step noise is `default_noise_sampler(x, seed)` as in v0.3.64 on CPU (the seed itself, no +1).

The model is the stand-in of make_sampling_fixtures.py (`stand_in_eps`, restated in the Swift test)
behind ModelSamplingDiscrete's calculate_input / timestep / calculate_denoised; its sigma table and
the schedules are read from schedules.json (recorded from ComfyUI itself).
"""
import json
import math
import os

import torch
from safetensors.torch import save_file

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "Tests", "LatentflowSamplingTests", "Fixtures")
SCHEDULES = json.load(open(os.path.join(FIXTURES, "schedules.json")))["schedules"]
SIGMA_TABLE = torch.tensor(SCHEDULES["eps.table"], dtype=torch.float32)
LOG_SIGMAS = torch.tensor(SCHEDULES["eps.log_table"], dtype=torch.float32)


# --- ModelSamplingDiscrete (EPS) -------------------------------------------------------------
def timestep(sigma):
    return (sigma.log() - LOG_SIGMAS[:, None]).abs().argmin(dim=0).view(sigma.shape)


def sigma_of_timestep(t):
    t = torch.clamp(t.float(), min=0, max=len(LOG_SIGMAS) - 1)
    low, high, w = t.floor().long(), t.ceil().long(), t.frac()
    return ((1 - w) * LOG_SIGMAS[low] + w * LOG_SIGMAS[high]).exp()


def percent_to_sigma(percent):
    if percent <= 0.0:
        return 999999999.9
    if percent >= 1.0:
        return 0.0
    return sigma_of_timestep(torch.tensor((1.0 - percent) * 999.0)).item()


def stand_in_eps(x_in, t, context):
    return torch.tanh(x_in * 0.7 + context) * 0.9 + t.float() * 0.00005


def predict(x, sigma, context):
    s = sigma.view(sigma.shape[:1] + (1,) * (x.ndim - 1))
    x_in = x / (s ** 2 + 1.0 ** 2) ** 0.5
    t = timestep(sigma).float().view(-1, 1, 1, 1)
    return x - stand_in_eps(x_in, t, context) * s


class Guided:
    """CFG on denoised predictions (cfg_function), cond context 0.3, uncond -0.2. With `record`,
    the post-CFG hook of the CFG++ samplers: the cfg-1 shortcut is off and uncond is kept."""

    def __init__(self, cfg, record=False):
        self.cfg, self.record, self.uncond_denoised = cfg, record, None

    def __call__(self, x, sigma):
        cond = predict(x, sigma, 0.3)
        if math.isclose(self.cfg, 1.0) and not self.record:
            return cond
        uncond = predict(x, sigma, -0.2)
        self.uncond_denoised = uncond
        return uncond + (cond - uncond) * self.cfg


def noise_sampler(x, seed):
    generator = torch.Generator()
    generator.manual_seed(seed)
    return lambda sigma, sigma_next: torch.randn(x.size(), dtype=x.dtype, generator=generator)


def to_d(x, sigma, denoised):
    return (x - denoised) / sigma


def ancestral_step(sigma_from, sigma_to, eta=1.0):
    if not eta:
        return sigma_to, 0.0
    sigma_up = min(sigma_to, eta * (sigma_to ** 2 * (sigma_from ** 2 - sigma_to ** 2) / sigma_from ** 2) ** 0.5)
    return (sigma_to ** 2 - sigma_up ** 2) ** 0.5, sigma_up


# --- DPM-Solver (fast and adaptive) ----------------------------------------------------------
class DPMSolver:
    def __init__(self, model, seed):
        self.model, self.seed = model, seed

    def t(self, sigma):
        return -sigma.log()

    def sigma(self, t):
        return t.neg().exp()

    def eps(self, cache, key, x, t):
        if key in cache:
            return cache[key], cache
        sigma = self.sigma(t) * x.new_ones([x.shape[0]])
        eps = (x - self.model(x, sigma)) / self.sigma(t)
        return eps, {key: eps, **cache}

    def step1(self, x, t, t_next, cache):
        h = t_next - t
        eps, cache = self.eps(cache, "eps", x, t)
        return x - self.sigma(t_next) * h.expm1() * eps, cache

    def step2(self, x, t, t_next, r1=1 / 2, cache=None):
        h = t_next - t
        eps, cache = self.eps(cache, "eps", x, t)
        s1 = t + r1 * h
        u1 = x - self.sigma(s1) * (r1 * h).expm1() * eps
        eps_r1, cache = self.eps(cache, "eps_r1", u1, s1)
        x_2 = x - self.sigma(t_next) * h.expm1() * eps - self.sigma(t_next) / (2 * r1) * h.expm1() * (eps_r1 - eps)
        return x_2, cache

    def step3(self, x, t, t_next, r1=1 / 3, r2=2 / 3, cache=None):
        h = t_next - t
        eps, cache = self.eps(cache, "eps", x, t)
        s1, s2 = t + r1 * h, t + r2 * h
        u1 = x - self.sigma(s1) * (r1 * h).expm1() * eps
        eps_r1, cache = self.eps(cache, "eps_r1", u1, s1)
        u2 = x - self.sigma(s2) * (r2 * h).expm1() * eps - self.sigma(s2) * (r2 / r1) * ((r2 * h).expm1() / (r2 * h) - 1) * (eps_r1 - eps)
        eps_r2, cache = self.eps(cache, "eps_r2", u2, s2)
        x_3 = x - self.sigma(t_next) * h.expm1() * eps - self.sigma(t_next) / r2 * (h.expm1() / h - 1) * (eps_r2 - eps)
        return x_3, cache

    def fast(self, x, t_start, t_end, nfe, eta=0.0, s_noise=1.0):
        noise = noise_sampler(x, self.seed)
        m = math.floor(nfe / 3) + 1
        ts = torch.linspace(t_start, t_end, m + 1)
        orders = [3] * (m - 2) + [2, 1] if nfe % 3 == 0 else [3] * (m - 1) + [nfe % 3]
        for i in range(len(orders)):
            cache = {}
            t, t_next = ts[i], ts[i + 1]
            if eta:
                sd, su = ancestral_step(self.sigma(t), self.sigma(t_next), eta)
                t_next_ = torch.minimum(t_end, self.t(sd))
                su = (self.sigma(t_next) ** 2 - self.sigma(t_next_) ** 2) ** 0.5
            else:
                t_next_, su = t_next, 0.0
            eps, cache = self.eps(cache, "eps", x, t)
            if orders[i] == 1:
                x, cache = self.step1(x, t, t_next_, cache)
            elif orders[i] == 2:
                x, cache = self.step2(x, t, t_next_, cache=cache)
            else:
                x, cache = self.step3(x, t, t_next_, cache=cache)
            x = x + su * s_noise * noise(self.sigma(t), self.sigma(t_next))
        return x

    def adaptive(self, x, t_start, t_end, order=3, rtol=0.05, atol=0.0078, h_init=0.05, pcoeff=0.0, icoeff=1.0,
                 dcoeff=0.0, accept_safety=0.81, eta=0.0, s_noise=1.0):
        noise = noise_sampler(x, self.seed)
        forward = t_end > t_start
        h_init = abs(h_init) * (1 if forward else -1)
        atol, rtol = torch.tensor(atol), torch.tensor(rtol)
        s, x_prev = t_start, x
        pid = PID(h_init, pcoeff, icoeff, dcoeff, 1.5 if eta else order, accept_safety)
        steps = 0
        while s < t_end - 1e-5 if forward else s > t_end + 1e-5:
            cache = {}
            t = torch.minimum(t_end, s + pid.h) if forward else torch.maximum(t_end, s + pid.h)
            if eta:
                sd, su = ancestral_step(self.sigma(s), self.sigma(t), eta)
                t_ = torch.minimum(t_end, self.t(sd))
                su = (self.sigma(t) ** 2 - self.sigma(t_) ** 2) ** 0.5
            else:
                t_, su = t, 0.0
            eps, cache = self.eps(cache, "eps", x, s)
            if order == 2:
                x_low, cache = self.step1(x, s, t_, cache)
                x_high, cache = self.step2(x, s, t_, cache=cache)
            else:
                x_low, cache = self.step2(x, s, t_, r1=1 / 3, cache=cache)
                x_high, cache = self.step3(x, s, t_, cache=cache)
            delta = torch.maximum(atol, rtol * torch.maximum(x_low.abs(), x_prev.abs()))
            error = torch.linalg.norm((x_low - x_high) / delta) / x.numel() ** 0.5
            if pid.propose_step(error):
                x_prev = x_low
                x = x_high + su * s_noise * noise(self.sigma(s), self.sigma(t))
                s = t
            steps += 1
        return x, steps


class PID:
    def __init__(self, h, pcoeff, icoeff, dcoeff, order=1, accept_safety=0.81, eps=1e-8):
        self.h = h
        self.b1, self.b2, self.b3 = (pcoeff + icoeff + dcoeff) / order, -(pcoeff + 2 * dcoeff) / order, dcoeff / order
        self.accept_safety, self.eps, self.errs = accept_safety, eps, []

    def propose_step(self, error):
        inv_error = 1 / (float(error) + self.eps)
        if not self.errs:
            self.errs = [inv_error, inv_error, inv_error]
        self.errs[0] = inv_error
        factor = self.errs[0] ** self.b1 * self.errs[1] ** self.b2 * self.errs[2] ** self.b3
        factor = 1 + math.atan(factor - 1)
        accept = factor >= self.accept_safety
        if accept:
            self.errs[2], self.errs[1] = self.errs[1], self.errs[0]
        self.h *= factor
        return accept


def ksampler_dpm(kind, model, x, sigmas, seed, **options):
    """comfy/samplers.py `ksampler`: sigma_min is the last sigma, or the one before a trailing 0."""
    sigma_min = sigmas[-1] if sigmas[-1] > 0 else sigmas[-2]
    solver = DPMSolver(model, seed)
    t_start, t_end = solver.t(torch.tensor(sigmas[0])), solver.t(torch.tensor(sigma_min))
    if kind == "fast":
        return solver.fast(x, t_start, t_end, len(sigmas) - 1)
    return solver.adaptive(x, t_start, t_end, **options)


# --- DEIS (tab mode, max_order 3) --------------------------------------------------------------
def edm2t(edm_steps, epsilon_s=1e-3, sigma_min=0.002, sigma_max=80):
    import numpy as np
    vp_sigma_inv = lambda beta_d, beta_min: lambda sigma: ((beta_min ** 2 + 2 * beta_d * (sigma ** 2 + 1).log()).sqrt() - beta_min) / beta_d  # noqa: E731
    vp_beta_d = 2 * (np.log(torch.tensor(sigma_min).cpu() ** 2 + 1) / epsilon_s - np.log(torch.tensor(sigma_max).cpu() ** 2 + 1)) / (epsilon_s - 1)
    vp_beta_min = np.log(torch.tensor(sigma_max).cpu() ** 2 + 1) - 0.5 * vp_beta_d
    t_steps = vp_sigma_inv(vp_beta_d.clone().detach().cpu(), vp_beta_min.clone().detach().cpu())(edm_steps.clone().detach().cpu())
    return t_steps, vp_beta_min, vp_beta_d + vp_beta_min


def deis_integrand(beta_0, beta_1, taus):
    taus, beta_0, beta_1 = taus.clone(), beta_0.clone(), beta_1.clone()
    with torch.enable_grad():
        taus.requires_grad_(True)
        alpha = torch.exp(-0.5 * taus ** 2 * (beta_1 - beta_0) - taus * beta_0)
        alpha.log().sum().backward()
        d_log_alpha = taus.grad
    return -0.5 * d_log_alpha / torch.sqrt(alpha.detach() * (1 - alpha.detach()))


def deis_coefficients(sigmas, max_order, N=10000):
    t_steps, beta_0, beta_1 = edm2t(sigmas)
    C = []
    for i, (t_cur, t_next) in enumerate(zip(t_steps[:-1], t_steps[1:])):
        order = min(i + 1, max_order)
        if order == 1:
            C.append([])
            continue
        taus = torch.linspace(t_cur, t_next, N)
        dtau = (t_next - t_cur) / N
        prev_t = t_steps[[i - k for k in range(order)]]
        integrand = deis_integrand(beta_0, beta_1, taus)
        coeffs = []
        for j in range(order):
            poly = 1
            for k in range(prev_t.shape[0]):
                if k != j:
                    poly *= (taus - prev_t[k]) / (prev_t[j] - prev_t[k])
            coeffs.append(torch.sum(integrand * poly) * dtau)
        C.append(coeffs)
    return C


def sample_deis(model, x, sigmas, max_order=3):
    coeffs = deis_coefficients(sigmas, max_order)
    s_in = x.new_ones([x.shape[0]])
    buffer = []
    for i in range(len(sigmas) - 1):
        t_cur, t_next = sigmas[i], sigmas[i + 1]
        denoised = model(x, t_cur * s_in)
        d_cur = (x - denoised) / t_cur
        order = min(max_order, i + 1)
        if t_next <= 0:
            order = 1
        if order == 1:
            x = x + (t_next - t_cur) * d_cur
        elif order == 2:
            c0, c1 = coeffs[i]
            x = x + c0 * d_cur + c1 * buffer[-1]
        else:
            c0, c1, c2 = coeffs[i]
            x = x + c0 * d_cur + c1 * buffer[-1] + c2 * buffer[-2]
        if len(buffer) == max_order - 1:
            for k in range(max_order - 2):
                buffer[k] = buffer[k + 1]
            buffer[-1] = d_cur
        else:
            buffer.append(d_cur)
    return x


# --- SA-Solver ---------------------------------------------------------------------------------
def exponential_coeffs(s, t, order, tau):
    tau_mul = 1 + tau ** 2
    h = t - s
    p = torch.arange(order, dtype=s.dtype)
    product_terms = t ** p - s ** p * (-tau_mul * h).exp()
    depth = p.unsqueeze(1) - p.unsqueeze(0)
    log_factorial = (p + 1).lgamma()
    coeff = log_factorial.unsqueeze(1) - log_factorial.unsqueeze(0)
    if tau > 0:
        coeff = coeff - depth * math.log(tau_mul)
    signs = torch.where(depth % 2 == 0, 1.0, -1.0)
    return (coeff.exp() * signs).tril() @ product_terms


def full_b_coeffs(sigma_next, lambdas, lambda_s, lambda_t, tau):
    n = lambdas.shape[0]
    integrals = exponential_coeffs(lambda_s, lambda_t, n, tau)
    lagrange = torch.linalg.solve(torch.vander(lambdas, n, increasing=True).T, integrals)
    return sigma_next * lambda_t.exp() * lagrange


def simple_b_coeffs(sigma_next, lambdas, lambda_s, lambda_t, tau, corrector):
    tau_mul = 1 + tau ** 2
    h = lambda_t - lambda_s
    alpha_t = sigma_next * lambda_t.exp()
    if corrector:
        b_1 = alpha_t * (0.5 * tau_mul * h)
        b_2 = alpha_t * (-h * tau_mul).expm1().neg() - b_1
    else:
        b_2 = alpha_t * (0.5 * tau_mul * h ** 2) / (lambdas[-2] - lambda_s)
        b_1 = alpha_t * (-h * tau_mul).expm1().neg() - b_2
    return torch.stack([b_2, b_1])


def sample_sa_solver(model, x, sigmas, seed, use_pece=False, predictor_order=3, corrector_order=4, eta=1.0,
                     s_noise=1.0, sde_percents=(0.2, 0.8), simple_order_2=False):
    noise_fn = noise_sampler(x, seed)
    s_in = x.new_ones([x.shape[0]])
    lambdas = sigmas.log().neg()
    start_sigma, end_sigma = percent_to_sigma(sde_percents[0]), percent_to_sigma(sde_percents[1])

    def adams_b_coeffs(sigma_next, curr, lambda_s, lambda_t, tau, corrector):
        if simple_order_2 and curr.shape[0] == 2:
            return simple_b_coeffs(sigma_next, curr, lambda_s, lambda_t, tau, corrector)
        return full_b_coeffs(sigma_next, curr, lambda_s, lambda_t, tau)

    def tau_func(sigma):
        if eta <= 0:
            return 0.0
        return eta if start_sigma >= sigma.item() >= end_sigma else 0.0

    max_order = max(predictor_order, corrector_order)
    x_pred, h, tau_t, noise, preds = x, 0.0, 0.0, 0.0, []
    lower_to_end = sigmas[-1].item() == 0
    for i in range(len(sigmas) - 1):
        denoised = model(x_pred, sigmas[i] * s_in)
        preds = (preds + [denoised])[-max_order:]
        p_order = min(predictor_order, len(preds))
        c_order = 0 if i == 0 or (sigmas[i + 1] == 0 and not use_pece) else min(corrector_order, len(preds))
        if lower_to_end:
            p_order = min(p_order, len(sigmas) - 2 - i)
            c_order = min(c_order, len(sigmas) - 1 - i)
        if c_order == 0:
            x = x_pred
        else:
            b = adams_b_coeffs(sigmas[i], lambdas[i - c_order + 1:i + 1], lambdas[i - 1], lambdas[i], tau_t, True)
            res = torch.tensordot(torch.stack(preds[-c_order:], dim=1), b, dims=([1], [0]))
            x = sigmas[i] / sigmas[i - 1] * (-(tau_t ** 2) * h).exp() * x + res
            if tau_t > 0 and s_noise > 0:
                x = x + noise
            if use_pece:
                denoised = model(x, sigmas[i] * s_in)
                preds[-1] = denoised
        if sigmas[i + 1] == 0:
            x_pred = denoised
        else:
            tau_t = tau_func(sigmas[i + 1])
            b = adams_b_coeffs(sigmas[i + 1], lambdas[i - p_order + 1:i + 1], lambdas[i], lambdas[i + 1], tau_t, False)
            res = torch.tensordot(torch.stack(preds[-p_order:], dim=1), b, dims=([1], [0]))
            h = lambdas[i + 1] - lambdas[i]
            x_pred = sigmas[i + 1] / sigmas[i] * (-(tau_t ** 2) * h).exp() * x + res
            if tau_t > 0 and s_noise > 0:
                noise = noise_fn(sigmas[i], sigmas[i + 1]) * sigmas[i + 1] * (-2 * tau_t ** 2 * h).expm1().neg().sqrt() * s_noise
                x_pred = x_pred + noise
    return x_pred


# --- CFG++ samplers (the model records uncond_denoised) ----------------------------------------
def sample_euler_ancestral_cfg_pp(model, x, sigmas, seed, eta=1.0, s_noise=1.0):
    noise = noise_sampler(x, seed)
    s_in = x.new_ones([x.shape[0]])
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * s_in)
        if sigmas[i + 1] == 0:
            x = denoised
            continue
        alpha_s = sigmas[i] * sigmas[i].log().neg().exp()
        alpha_t = sigmas[i + 1] * sigmas[i + 1].log().neg().exp()
        d = to_d(x, sigmas[i], alpha_s * model.uncond_denoised)
        sigma_down, sigma_up = ancestral_step(sigmas[i] / alpha_s, sigmas[i + 1] / alpha_t, eta=eta)
        sigma_down = alpha_t * sigma_down
        x = alpha_t * denoised + sigma_down * d
        if eta > 0 and s_noise > 0:
            x = x + alpha_t * noise(sigmas[i], sigmas[i + 1]) * s_noise * sigma_up
    return x


def sample_dpmpp_2s_ancestral_cfg_pp(model, x, sigmas, seed, eta=1.0, s_noise=1.0):
    noise = noise_sampler(x, seed)
    s_in = x.new_ones([x.shape[0]])
    sigma_fn, t_fn = (lambda t: t.neg().exp()), (lambda sigma: sigma.log().neg())
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * s_in)
        uncond = model.uncond_denoised
        guidance = denoised - uncond
        sigma_down, sigma_up = ancestral_step(sigmas[i], sigmas[i + 1], eta=eta)
        if sigma_down == 0:
            x = x + to_d(x, sigmas[i], uncond) * (sigma_down - sigmas[i])
        else:
            t, t_next = t_fn(sigmas[i]), t_fn(sigma_down)
            r = 1 / 2
            h = t_next - t
            s = t + r * h
            x_2 = (sigma_fn(s) / sigma_fn(t)) * x - (-h * r).expm1() * uncond
            model(x_2, sigma_fn(s) * s_in)
            x = (sigma_fn(t_next) / sigma_fn(t)) * x - (-h).expm1() * model.uncond_denoised
        if sigmas[i + 1] > 0:
            x = x + noise(sigmas[i], sigmas[i + 1]) * s_noise * sigma_up
        x += guidance
    return x


def sample_dpmpp_2m_cfg_pp(model, x, sigmas):
    s_in = x.new_ones([x.shape[0]])
    t_fn = lambda sigma: sigma.log().neg()  # noqa: E731
    old_uncond = None
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * s_in)
        uncond = model.uncond_denoised
        t, t_next = t_fn(sigmas[i]), t_fn(sigmas[i + 1])
        h = t_next - t
        if old_uncond is None or sigmas[i + 1] == 0:
            mix = -torch.exp(-h) * uncond
        else:
            r = (t - t_fn(sigmas[i - 1])) / h
            mix = -torch.exp(-h) * uncond - torch.expm1(-h) * (1 / (2 * r)) * (denoised - old_uncond)
        x = denoised + mix + torch.exp(-h) * x
        old_uncond = uncond
    return x


def res_multistep_cfg_pp(model, x, sigmas, seed, eta):
    noise = noise_sampler(x, seed)
    s_in = x.new_ones([x.shape[0]])
    sigma_fn, t_fn = (lambda t: t.neg().exp()), (lambda sigma: sigma.log().neg())
    phi1 = lambda t: torch.expm1(t) / t  # noqa: E731
    phi2 = lambda t: (phi1(t) - 1.0) / t  # noqa: E731
    old_sigma_down = old_denoised = None
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * s_in)
        uncond = model.uncond_denoised
        sigma_down, sigma_up = ancestral_step(sigmas[i], sigmas[i + 1], eta=eta)
        if sigma_down == 0 or old_denoised is None:
            x = denoised + to_d(x, sigmas[i], uncond) * sigma_down
        else:
            t, t_old, t_next, t_prev = t_fn(sigmas[i]), t_fn(old_sigma_down), t_fn(sigma_down), t_fn(sigmas[i - 1])
            h = t_next - t
            c2 = (t_prev - t_old) / h
            p1, p2 = phi1(-h), phi2(-h)
            b1 = torch.nan_to_num(p1 - p2 / c2, nan=0.0)
            b2 = torch.nan_to_num(p2 / c2, nan=0.0)
            x = x + (denoised - uncond)
            x = sigma_fn(h) * x + h * (b1 * uncond + b2 * old_denoised)
        if sigmas[i + 1] > 0:
            x = x + noise(sigmas[i], sigmas[i + 1]) * 1.0 * sigma_up
        old_denoised, old_sigma_down = uncond, sigma_down
    return x


def sample_gradient_estimation_cfg_pp(model, x, sigmas, ge_gamma=2.0):
    s_in = x.new_ones([x.shape[0]])
    old_d = None
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * s_in)
        d = to_d(x, sigmas[i], model.uncond_denoised)
        dt = sigmas[i + 1] - sigmas[i]
        if sigmas[i + 1] == 0:
            x = denoised
        else:
            x = denoised + d * sigmas[i + 1]
            if i >= 1:
                x = x + (ge_gamma - 1) * (d - old_d) * dt
        old_d = d
    return x


# --- The menu samplers that parameter nodes configure ---------------------------------------
def sample_euler_ancestral(model, x, sigmas, seed, eta=1.0, s_noise=1.0):
    noise = noise_sampler(x, seed)
    s_in = x.new_ones([x.shape[0]])
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * s_in)
        sigma_down, sigma_up = ancestral_step(sigmas[i], sigmas[i + 1], eta=eta)
        if sigma_down == 0:
            x = denoised
        else:
            d = to_d(x, sigmas[i], denoised)
            x = x + d * (sigma_down - sigmas[i]) + noise(sigmas[i], sigmas[i + 1]) * s_noise * sigma_up
    return x


def sample_dpmpp_2s_ancestral(model, x, sigmas, seed, eta=1.0, s_noise=1.0):
    noise = noise_sampler(x, seed)
    s_in = x.new_ones([x.shape[0]])
    sigma_fn, t_fn = (lambda t: t.neg().exp()), (lambda sigma: sigma.log().neg())
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * s_in)
        sigma_down, sigma_up = ancestral_step(sigmas[i], sigmas[i + 1], eta=eta)
        if sigma_down == 0:
            x = x + to_d(x, sigmas[i], denoised) * (sigma_down - sigmas[i])
        else:
            t, t_next = t_fn(sigmas[i]), t_fn(sigma_down)
            r = 1 / 2
            h = t_next - t
            s = t + r * h
            x_2 = (sigma_fn(s) / sigma_fn(t)) * x - (-h * r).expm1() * denoised
            denoised_2 = model(x_2, sigma_fn(s) * s_in)
            x = (sigma_fn(t_next) / sigma_fn(t)) * x - (-h).expm1() * denoised_2
        if sigmas[i + 1] > 0:
            x = x + noise(sigmas[i], sigmas[i + 1]) * s_noise * sigma_up
    return x


def sample_lms(model, x, sigmas, order=4):
    from scipy import integrate

    def coeff(order, t, i, j):
        def fn(tau):
            prod = 1.
            for k in range(order):
                if j != k:
                    prod *= (tau - t[i - k]) / (t[i - j] - t[i - k])
            return prod
        return integrate.quad(fn, t[i], t[i + 1], epsrel=1e-4)[0]

    s_in = x.new_ones([x.shape[0]])
    sigmas_cpu = sigmas.detach().cpu().numpy()
    ds = []
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * s_in)
        ds.append(to_d(x, sigmas[i], denoised))
        if len(ds) > order:
            ds.pop(0)
        if sigmas[i + 1] == 0:
            x = denoised
        else:
            cur_order = min(i + 1, order)
            coeffs = [coeff(cur_order, sigmas_cpu, i, j) for j in range(cur_order)]
            x = x + sum(c * d for c, d in zip(coeffs, reversed(ds)))
    return x


# --- Cases -------------------------------------------------------------------------------------
tensors, cases = {}, {}


def add_case(name, sampler, schedule, cfg, seed, shape, run, options=None):
    sigmas = torch.tensor(SCHEDULES[f"eps.{schedule}"], dtype=torch.float32)
    generator = torch.Generator()
    generator.manual_seed(seed)
    x = torch.randn(shape, generator=generator) * (sigmas[0] ** 2 + 1) ** 0.5  # max_denoise noise scaling
    tensors[name + ".x"] = x.contiguous()
    out = run(Guided(cfg, record=sampler.endswith("_cfg_pp")), x.clone(), sigmas, seed)
    if isinstance(out, tuple):
        out, steps = out
        options = dict(options or {}, steps_taken=steps)
    tensors[name] = out.contiguous()
    cases[name] = dict(sampler=sampler, schedule=schedule, cfg=cfg, seed=str(seed), shape=list(shape),
                       options=options or {})


for schedule in ["karras.8", "normal.6", "simple.4", "exponential.20"]:
    add_case(f"dpm_fast.{schedule}", "dpm_fast", schedule, 1.0, 42, (1, 4, 4, 4),
             lambda m, x, s, seed: ksampler_dpm("fast", m, x, s.tolist(), seed))
    add_case(f"deis.{schedule}", "deis", schedule, 1.0, 42, (1, 4, 4, 4), lambda m, x, s, seed: sample_deis(m, x, s))
    for sampler, pece in [("sa_solver", False), ("sa_solver_pece", True)]:
        add_case(f"{sampler}.{schedule}", sampler, schedule, 1.0, 42, (1, 4, 4, 4),
                 lambda m, x, s, seed, pece=pece: sample_sa_solver(m, x, s, seed, use_pece=pece))
add_case("dpm_fast.karras.6.cfg5.batch2", "dpm_fast", "karras.6", 5.0, 7, (2, 4, 5, 3),
         lambda m, x, s, seed: ksampler_dpm("fast", m, x, s.tolist(), seed))
add_case("dpm_fast.normal.2", "dpm_fast", "normal.2", 3.0, 3, (1, 4, 4, 4),
         lambda m, x, s, seed: ksampler_dpm("fast", m, x, s.tolist(), seed))
for schedule in ["karras.8", "normal.20"]:
    add_case(f"dpm_adaptive.{schedule}", "dpm_adaptive", schedule, 1.0, 42, (1, 4, 4, 4),
             lambda m, x, s, seed: ksampler_dpm("adaptive", m, x, s.tolist(), seed))
add_case("dpm_adaptive.karras.8.cfg6.batch2", "dpm_adaptive", "karras.8", 6.0, 11, (2, 4, 5, 3),
         lambda m, x, s, seed: ksampler_dpm("adaptive", m, x, s.tolist(), seed))
# SamplerDPMAdaptative's settings: order 2, eta 1 (noise), tighter tolerances.
adaptive_options = dict(order=2, rtol=0.02, atol=0.005, h_init=0.1, pcoeff=0.1, icoeff=0.8, dcoeff=0.1,
                        accept_safety=0.85, eta=1.0, s_noise=0.9)
add_case("dpm_adaptive.options", "dpm_adaptive", "normal.8", 4.0, 5, (1, 4, 4, 4),
         lambda m, x, s, seed: ksampler_dpm("adaptive", m, x, s.tolist(), seed, **adaptive_options), adaptive_options)
add_case("deis.karras.8.cfg7.batch2", "deis", "karras.8", 7.0, 9, (2, 4, 5, 3), lambda m, x, s, seed: sample_deis(m, x, s))
add_case("sa_solver.karras.20.cfg4.batch2", "sa_solver", "karras.20", 4.0, 13, (2, 4, 5, 3),
         lambda m, x, s, seed: sample_sa_solver(m, x, s, seed))
add_case("sa_solver_pece.normal.8.cfg3", "sa_solver_pece", "normal.8", 3.0, 17, (1, 4, 4, 4),
         lambda m, x, s, seed: sample_sa_solver(m, x, s, seed, use_pece=True))

cfg_pp = {
    "euler_cfg_pp": lambda m, x, s, seed: sample_euler_ancestral_cfg_pp(m, x, s, seed, eta=0.0, s_noise=0.0),
    "euler_ancestral_cfg_pp": lambda m, x, s, seed: sample_euler_ancestral_cfg_pp(m, x, s, seed),
    "dpmpp_2s_ancestral_cfg_pp": lambda m, x, s, seed: sample_dpmpp_2s_ancestral_cfg_pp(m, x, s, seed),
    "dpmpp_2m_cfg_pp": lambda m, x, s, seed: sample_dpmpp_2m_cfg_pp(m, x, s),
    "res_multistep_cfg_pp": lambda m, x, s, seed: res_multistep_cfg_pp(m, x, s, seed, eta=0.0),
    "res_multistep_ancestral_cfg_pp": lambda m, x, s, seed: res_multistep_cfg_pp(m, x, s, seed, eta=1.0),
    "gradient_estimation_cfg_pp": lambda m, x, s, seed: sample_gradient_estimation_cfg_pp(m, x, s),
}
for sampler, run in cfg_pp.items():
    # CFG++ scales are small (ComfyUI's templates use about 1); cfg 1 still runs the negative.
    add_case(f"{sampler}.karras.8.cfg1", sampler, "karras.8", 1.0, 42, (1, 4, 4, 4), run)
    add_case(f"{sampler}.normal.6.cfg1.5.batch2", sampler, "normal.6", 1.5, 5, (2, 4, 5, 3), run)

# The parameter nodes' settings (SamplerEulerAncestral, SamplerEulerAncestralCFGPP, SamplerLMS,
# SamplerDPMPP_2S_Ancestral, SamplerSASolver; SamplerDPMAdaptative is dpm_adaptive.options above).
add_case("options.euler_ancestral", "euler_ancestral", "karras.8", 3.0, 21, (1, 4, 4, 4),
         lambda m, x, s, seed: sample_euler_ancestral(m, x, s, seed, eta=0.6, s_noise=0.7), dict(eta=0.6, s_noise=0.7))
add_case("options.euler_ancestral_cfg_pp", "euler_ancestral_cfg_pp", "normal.8", 1.2, 22, (1, 4, 4, 4),
         lambda m, x, s, seed: sample_euler_ancestral_cfg_pp(m, x, s, seed, eta=0.5, s_noise=0.8),
         dict(eta=0.5, s_noise=0.8))
add_case("options.lms", "lms", "karras.8", 4.0, 23, (1, 4, 4, 4), lambda m, x, s, seed: sample_lms(m, x, s, order=2),
         dict(order=2))
add_case("options.dpmpp_2s_ancestral", "dpmpp_2s_ancestral", "exponential.8", 5.0, 24, (1, 4, 4, 4),
         lambda m, x, s, seed: sample_dpmpp_2s_ancestral(m, x, s, seed, eta=0.4, s_noise=1.2), dict(eta=0.4, s_noise=1.2))
sa_options = dict(eta=0.7, sde_start_percent=0.1, sde_end_percent=0.9, s_noise=0.9, predictor_order=2,
                  corrector_order=2, use_pece=True, simple_order_2=True)
add_case("options.sa_solver", "sa_solver_pece", "karras.20", 2.0, 25, (1, 4, 4, 4),
         lambda m, x, s, seed: sample_sa_solver(m, x, s, seed, use_pece=True, predictor_order=2, corrector_order=2,
                                                eta=0.7, s_noise=0.9, sde_percents=(0.1, 0.9), simple_order_2=True),
         dict(sa_options, sde_start_sigma=percent_to_sigma(0.1), sde_end_sigma=percent_to_sigma(0.9)))

out = os.path.join(FIXTURES, "extra_samplers.safetensors")
save_file(tensors, out, metadata={"cases": json.dumps(cases), "torch": torch.__version__})
print(f"wrote {len(cases)} cases to {out}")
for name, info in cases.items():
    if "steps_taken" in info["options"]:
        print(name, "adaptive steps:", info["options"]["steps_taken"])
