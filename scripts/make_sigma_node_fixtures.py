"""Reference outputs of ComfyUI's custom-sampling scheduler and sigma nodes, for
Tests/LatentflowNodesTests/SigmaNodeParityTests.swift.

Run by hand (never by CI), in a venv with torch, numpy and scipy:
    python3 scripts/make_sigma_node_fixtures.py
Writes Tests/LatentflowNodesTests/Fixtures/sigma_nodes.json: for each case the node, its inputs, the
input sigmas (for the sigma operations) and the expected outputs as float32 values. Each function
below is a torch/numpy transcription of ComfyUI v0.3.64's own, named in its docstring
(comfy/k_diffusion/sampling.py, comfy/samplers.py, comfy/model_sampling.py,
comfy_extras/nodes_custom_sampler.py, comfy_extras/nodes_align_your_steps.py).
"""
import json
import math
import os

import numpy as np
import scipy.stats
import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "LatentflowNodesTests", "Fixtures", "sigma_nodes.json")


def append_zero(x):
    return torch.cat([x, x.new_zeros([1])])


def karras(n, sigma_min, sigma_max, rho):
    """k_diffusion.sampling.get_sigmas_karras"""
    ramp = torch.linspace(0, 1, n)
    min_inv_rho, max_inv_rho = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
    return append_zero((max_inv_rho + ramp * (min_inv_rho - max_inv_rho)) ** rho)


def exponential(n, sigma_min, sigma_max):
    """k_diffusion.sampling.get_sigmas_exponential"""
    return append_zero(torch.linspace(math.log(sigma_max), math.log(sigma_min), n).exp())


def polyexponential(n, sigma_min, sigma_max, rho):
    """k_diffusion.sampling.get_sigmas_polyexponential"""
    ramp = torch.linspace(1, 0, n) ** rho
    return append_zero(torch.exp(ramp * (math.log(sigma_max) - math.log(sigma_min)) + math.log(sigma_min)))


def vp(n, beta_d, beta_min, eps_s):
    """k_diffusion.sampling.get_sigmas_vp (ComfyUI's, with expm1)"""
    t = torch.linspace(1, eps_s, n)
    return append_zero(torch.sqrt(torch.special.expm1(beta_d * t ** 2 / 2 + beta_min * t)))


def laplace(n, sigma_min, sigma_max, mu, beta):
    """k_diffusion.sampling.get_sigmas_laplace (no trailing zero in ComfyUI)"""
    x = torch.linspace(0, 1, n)
    lmb = mu - beta * torch.sign(0.5 - x) * torch.log(1 - 2 * torch.abs(0.5 - x) + 1e-5)
    return torch.clamp(torch.exp(lmb), min=sigma_min, max=sigma_max)


def sd15_sigmas():
    """comfy.model_sampling.ModelSamplingDiscrete._register_schedule, scaled_linear 0.00085-0.012"""
    betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2
    alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
    return (((1 - alphas_cumprod) / alphas_cumprod) ** 0.5).float()


def sigma_of(timesteps, sigmas):
    """comfy.model_sampling.ModelSamplingDiscrete.sigma"""
    log_sigmas = sigmas.log()
    t = torch.clamp(timesteps.float(), min=0, max=len(sigmas) - 1)
    low, high = t.floor().long(), t.ceil().long()
    w = t.frac()
    return ((1 - w) * log_sigmas[low] + w * log_sigmas[high]).exp()


def beta_scheduler(sigmas, steps, alpha, beta):
    """comfy.samplers.beta_scheduler"""
    total_timesteps = len(sigmas) - 1
    ts = 1 - np.linspace(0, 1, steps, endpoint=False)
    ts = np.rint(scipy.stats.beta.ppf(ts, alpha, beta) * total_timesteps)
    out, last_t = [], -1
    for t in ts:
        if t != last_t:
            out += [float(sigmas[int(t)])]
        last_t = t
    out += [0.0]
    return torch.FloatTensor(out)


def sd_turbo(sigmas, steps, denoise):
    """nodes_custom_sampler.SDTurboScheduler"""
    start_step = 10 - int(10 * denoise)
    timesteps = torch.flip(torch.arange(1, 11) * 100 - 1, (0,))[start_step:start_step + steps]
    return append_zero(sigma_of(timesteps, sigmas))


AYS_SD1 = [14.6146412293, 6.4745760956, 3.8636745985, 2.6946151520, 1.8841921177, 1.3943805092, 0.9642583904,
           0.6523686016, 0.3977456272, 0.1515232662, 0.0291671582]
AYS_TABLES = {
    "SD1": AYS_SD1,
    "SDXL": [14.6146412293, 6.3184485287, 3.7681790315, 2.1811480769, 1.3405244945, 0.8620721141, 0.5550693289,
             0.3798540708, 0.2332364134, 0.1114188177, 0.0291671582],
    "SVD": [700.00, 54.5, 15.886, 7.977, 4.248, 1.789, 0.981, 0.403, 0.173, 0.034, 0.002],
}


def align_your_steps(steps, denoise, model_type="SD1"):
    """nodes_align_your_steps.AlignYourStepsScheduler.get_sigmas with loglinear_interp"""
    total_steps = steps
    if denoise < 1.0:
        if denoise <= 0.0:
            return torch.FloatTensor([])
        total_steps = round(steps * denoise)
    sigmas = AYS_TABLES[model_type][:]
    if steps + 1 != len(sigmas):
        xs = np.linspace(0, 1, len(sigmas))
        ys = np.log(sigmas[::-1])
        sigmas = np.exp(np.interp(np.linspace(0, 1, steps + 1), xs, ys))[::-1].copy()
    sigmas = sigmas[-(total_steps + 1):]
    sigmas[-1] = 0
    return torch.FloatTensor(sigmas)


def split(sigmas, step):
    """nodes_custom_sampler.SplitSigmas"""
    return sigmas[:step + 1], sigmas[step:]


def split_denoise(sigmas, denoise):
    """nodes_custom_sampler.SplitSigmasDenoise"""
    steps = max(sigmas.shape[-1] - 1, 0)
    total_steps = round(steps * denoise)
    return sigmas[:-(total_steps)], sigmas[-(total_steps + 1):]


def flip(sigmas):
    """nodes_custom_sampler.FlipSigmas"""
    if len(sigmas) == 0:
        return sigmas
    sigmas = sigmas.flip(0)
    if sigmas[0] == 0:
        sigmas[0] = 0.0001
    return sigmas


def set_first(sigmas, sigma):
    """nodes_custom_sampler.SetFirstSigma"""
    sigmas = sigmas.clone()
    sigmas[0] = sigma
    return sigmas


def extend(sigmas, steps, start_at_sigma, end_at_sigma, spacing):
    """nodes_custom_sampler.ExtendIntermediateSigmas"""
    if start_at_sigma < 0:
        start_at_sigma = float("inf")
    interpolator = {"linear": lambda x: x, "cosine": lambda x: torch.sin(x * math.pi / 2),
                    "sine": lambda x: 1 - torch.cos(x * math.pi / 2)}[spacing]
    computed_spacing = interpolator(torch.linspace(0, 1, steps + 1)[1:-1])
    out = []
    for i in range(len(sigmas) - 1):
        current, following = sigmas[i], sigmas[i + 1]
        out.append(current)
        if end_at_sigma <= current <= start_at_sigma:
            out.extend((computed_spacing * (following - current) + current).tolist())
    if len(sigmas) > 0:
        out.append(sigmas[-1])
    return torch.FloatTensor(out)


def main():
    cases = []

    def case(name, node, inputs, outputs, sigmas=None):
        entry = {"name": name, "node": node, "inputs": inputs,
                 "expected": [[float(v) for v in out.float()] for out in outputs]}
        if sigmas is not None:
            entry["sigmas"] = [float(v) for v in sigmas.float()]
        cases.append(entry)

    smax, smin = 14.614642, 0.0291675
    for steps, rho in [(20, 7.0), (7, 3.5), (1, 7.0)]:
        case(f"karras_{steps}_{rho}", "KarrasScheduler", {"steps": steps, "sigma_max": smax, "sigma_min": smin, "rho": rho},
             [karras(steps, smin, smax, rho)])
    for steps in [20, 3]:
        case(f"exponential_{steps}", "ExponentialScheduler", {"steps": steps, "sigma_max": 10.5, "sigma_min": 0.05},
             [exponential(steps, 0.05, 10.5)])
    for steps, rho in [(20, 1.0), (9, 2.5)]:
        case(f"polyexponential_{steps}", "PolyexponentialScheduler",
             {"steps": steps, "sigma_max": smax, "sigma_min": smin, "rho": rho}, [polyexponential(steps, smin, smax, rho)])
    case("vp_default", "VPScheduler", {"steps": 20, "beta_d": 19.9, "beta_min": 0.1, "eps_s": 0.001},
         [vp(20, 19.9, 0.1, 0.001)])
    case("vp_custom", "VPScheduler", {"steps": 6, "beta_d": 12.5, "beta_min": 0.3, "eps_s": 0.01}, [vp(6, 12.5, 0.3, 0.01)])
    for steps, mu, beta in [(20, 0.0, 0.5), (11, 0.7, 1.3)]:
        case(f"laplace_{steps}", "LaplaceScheduler",
             {"steps": steps, "sigma_max": smax, "sigma_min": smin, "mu": mu, "beta": beta},
             [laplace(steps, smin, smax, mu, beta)])
    sd15 = sd15_sigmas()
    for steps, alpha, beta in [(20, 0.6, 0.6), (9, 0.5, 0.7)]:
        case(f"beta_{steps}", "BetaSamplingScheduler", {"steps": steps, "alpha": alpha, "beta": beta},
             [beta_scheduler(sd15, steps, alpha, beta)])
    for steps, denoise in [(1, 1.0), (4, 1.0), (3, 0.55), (10, 0.3)]:
        case(f"sdturbo_{steps}_{denoise}", "SDTurboScheduler", {"steps": steps, "denoise": denoise},
             [sd_turbo(sd15, steps, denoise)])
    for steps, denoise in [(10, 1.0), (4, 1.0), (25, 1.0), (12, 0.6), (10, 0.0)]:
        case(f"ays_{steps}_{denoise}", "AlignYourStepsScheduler", {"model_type": "SD1", "steps": steps, "denoise": denoise},
             [align_your_steps(steps, denoise)])
    for model_type, steps, denoise in [("SDXL", 10, 1.0), ("SDXL", 7, 0.8), ("SVD", 10, 1.0), ("SVD", 15, 1.0)]:
        case(f"ays_{model_type}_{steps}_{denoise}", "AlignYourStepsScheduler",
             {"model_type": model_type, "steps": steps, "denoise": denoise},
             [align_your_steps(steps, denoise, model_type)])

    base = karras(8, smin, smax, 7.0)
    for step in [0, 3, 8, 12]:
        case(f"split_{step}", "SplitSigmas", {"step": step}, list(split(base, step)), sigmas=base)
    for denoise in [1.0, 0.5, 0.3, 0.0]:
        case(f"split_denoise_{denoise}", "SplitSigmasDenoise", {"denoise": denoise}, list(split_denoise(base, denoise)),
             sigmas=base)
    case("flip", "FlipSigmas", {}, [flip(base)], sigmas=base)
    case("set_first", "SetFirstSigma", {"sigma": 136.0}, [set_first(base, 136.0)], sigmas=base)
    for steps, start, end, spacing in [(2, -1.0, 12.0, "linear"), (3, -1.0, 0.5, "cosine"), (4, 5.0, 1.0, "sine")]:
        case(f"extend_{steps}_{spacing}", "ExtendIntermediateSigmas",
             {"steps": steps, "start_at_sigma": start, "end_at_sigma": end, "spacing": spacing},
             [extend(base, steps, start, end, spacing)], sigmas=base)

    with open(OUT, "w") as f:
        json.dump({"torch": torch.__version__, "numpy": np.__version__, "scipy": scipy.__version__, "cases": cases}, f,
                  indent=1)
    print(f"{len(cases)} cases → {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
