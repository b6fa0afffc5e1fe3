"""Reference trajectories for the TCD sampler (Trajectory Consistency Distillation).

Run by hand (never by CI) in a venv with torch, diffusers and safetensors:
    python3 scripts/make_tcd_fixtures.py
Writes Tests/LatentflowSamplingTests/Fixtures/tcd.safetensors (a few KB).

Two references, both on a fixed toy epsilon model (`toy_eps`, restated in the Swift test):

* `diffusers.<case>`: diffusers' own `TCDScheduler` stepped by hand, its noise draws replaced by
  fixed tensors (stored as `<case>.noise.<i>`), so the Swift sampler can be driven by the same
  noise. diffusers works on the variance-preserving latent x·sqrt(ᾱ); at the last step that
  latent and ComfyUI's are the same (σ = 0), so the final samples compare directly.
* `comfy.<case>`: a transcription of the ComfyUI-TCD node pack (JettHu/ComfyUI-TCD `__init__.py`:
  `TCDModelSamplingDiscrete.patch` and `sample_tcd`) over a transcription of ComfyUI's
  `ModelSamplingDiscreteDistilled` (comfy_extras/nodes_model_advanced.py) with EPS, its
  `simple_scheduler` / `normal_scheduler(sgm=True)` (comfy/samplers.py), `prepare_noise`
  (comfy/sample.py: `torch.manual_seed(seed)`, so sample_tcd's `default_noise_sampler(x)` goes
  on drawing from the same global generator), and KSAMPLER's noise scaling. It records the
  node's SIGMAS and its `alpha_prod_s`, and the sampled latent after `process_latent_out`.
"""
import json
import os

import torch
from diffusers import TCDScheduler
import diffusers.schedulers.scheduling_tcd as scheduling_tcd
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "LatentflowSamplingTests", "Fixtures", "tcd.safetensors")
SHAPE = [1, 4, 8, 8]


def toy_eps(x_in, t):
    """A deterministic stand-in for the UNet's epsilon prediction (x_in = x / sqrt(σ² + 1))."""
    return torch.tanh(x_in * 0.7 + 0.3) * 0.9 + float(t) * 0.00005


# --- ComfyUI's schedule (float64 table, float32 sigmas), as ModelSamplingDiscrete builds it.
betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2
full_sigmas = (((1 - torch.cumprod(1.0 - betas, dim=0)) / torch.cumprod(1.0 - betas, dim=0)) ** 0.5).float()
# ModelSamplingDiscreteDistilled: 50 of them, every 20th timestep (index i stands for 20·i + 19).
skip = 20
sigmas50 = torch.zeros(50, dtype=torch.float32)
for x in range(50):
    sigmas50[49 - x] = full_sigmas[999 - x * skip]
log_sigmas50 = sigmas50.log()
# ModelSamplingDiscreteDistilledTCD's own table: float32 cumprod of the float64 alphas.
alphas_cumprod = torch.cumprod(1.0 - betas, dim=0, dtype=torch.float32)


def timestep(sigma):
    dists = sigma.log() - log_sigmas50[:, None]
    return dists.abs().argmin(dim=0).view(sigma.shape) * skip + (skip - 1)


def sigma_of(t):
    t = torch.clamp(((t.float() - (skip - 1)) / skip).float(), min=0, max=49)
    low, high, w = t.floor().long(), t.ceil().long(), t.frac()
    return ((1 - w) * log_sigmas50[low] + w * log_sigmas50[high]).exp()


def calculate_sigmas(scheduler, steps):
    if scheduler == "simple":
        ss = len(sigmas50) / steps
        sigs = [float(sigmas50[-(1 + int(x * ss))]) for x in range(steps)]
        return torch.FloatTensor(sigs + [0.0])
    start, end = timestep(sigmas50[-1]), timestep(sigmas50[0])
    timesteps = torch.linspace(start, end, steps + 1)[:-1]
    return torch.FloatTensor([float(sigma_of(ts)) for ts in timesteps] + [0.0])


def tcd_node(steps, scheduler, denoise, eta):
    """TCDModelSamplingDiscrete.patch: the SIGMAS output and the sampler's alpha_prod_s."""
    total = int(steps / denoise)
    sigmas = calculate_sigmas(scheduler, total)[-(steps + 1):]
    timesteps_s = torch.floor((1 - eta) * timestep(sigmas)).to(dtype=torch.long)
    timesteps_s[-1] = 0
    return sigmas, alphas_cumprod[timesteps_s]


def comfy_denoiser(x, sigma):
    """EPS.calculate_input / calculate_denoised around the toy model, at ComfyUI's timestep."""
    x_in = x / (sigma * sigma + 1.0) ** 0.5
    return x - toy_eps(x_in, timestep(sigma.view(1))[0]) * sigma


def sample_tcd(x, sigmas, eta, alpha_prod_s):
    beta_prod_s = 1 - alpha_prod_s
    for i in range(len(sigmas) - 1):
        denoised = comfy_denoiser(x, sigmas[i])
        eps = (x - denoised) / sigmas[i]
        denoised = alpha_prod_s[i + 1].sqrt() * denoised + beta_prod_s[i + 1].sqrt() * eps
        x = denoised
        if eta > 0 and sigmas[i + 1] > 0:
            noise = torch.randn(x.size(), dtype=x.dtype)  # the global generator prepare_noise seeded
            x = x / alpha_prod_s[i + 1].sqrt() + noise * (sigmas[i + 1] ** 2 + 1 - 1 / alpha_prod_s[i + 1]).sqrt()
        else:
            x = x * (sigmas[i + 1] ** 2 + 1).sqrt()
    return x


tensors, comfy_cases, diffusers_cases = {}, {}, {}
latent_generator = torch.Generator().manual_seed(7)
for name, (steps, scheduler, denoise, eta, seed, has_latent) in {
    "s4_simple_eta03": (4, "simple", 1.0, 0.3, 42, False),
    "s1_simple_eta03": (1, "simple", 1.0, 0.3, 1, False),
    "s2_sgm_eta05": (2, "sgm_uniform", 1.0, 0.5, 5, False),
    "s8_sgm_eta0": (8, "sgm_uniform", 1.0, 0.0, 9, False),
    "s4_simple_eta1": (4, "simple", 1.0, 1.0, 3, False),
    "s4_simple_denoise06": (4, "simple", 0.6, 0.3, 11, True),
}.items():
    sigmas, alpha_prod_s = tcd_node(steps, scheduler, denoise, eta)
    latent = torch.randn(SHAPE, generator=latent_generator) if has_latent else torch.zeros(SHAPE)
    generator = torch.manual_seed(seed)  # prepare_noise
    noise = torch.randn(SHAPE, dtype=torch.float32, generator=generator)
    max_denoise = bool(abs(float(sigmas[0]) - float(sigmas50[-1])) <= 1e-5 * float(sigmas50[-1]))
    scaled = latent * 0.18215 if has_latent else latent
    x = scaled + noise * ((1 + sigmas[0] ** 2) ** 0.5 if max_denoise else sigmas[0])
    result = sample_tcd(x, sigmas, eta, alpha_prod_s) / 0.18215
    key = "comfy." + name
    tensors[key] = result.contiguous()
    tensors[key + ".sigmas"] = sigmas
    tensors[key + ".alpha_prod_s"] = alpha_prod_s.contiguous()
    if has_latent:
        tensors[key + ".latent"] = latent
    comfy_cases[name] = {"steps": steps, "scheduler": scheduler, "denoise": denoise, "eta": eta, "seed": str(seed)}

tensors["alphas_cumprod"] = alphas_cumprod

# --- diffusers' TCDScheduler, stepped on the same toy model with recorded noise.
for name, (steps, eta) in {"s4_eta03": (4, 0.3), "s1_eta03": (1, 0.3), "s2_eta0": (2, 0.0),
                           "s8_eta1": (8, 1.0), "s6_eta05": (6, 0.5)}.items():
    scheduler = TCDScheduler(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012,
                             beta_schedule="scaled_linear", original_inference_steps=50)
    scheduler.set_timesteps(steps)
    generator = torch.Generator().manual_seed(100 + steps)
    start = torch.randn(SHAPE, generator=generator)
    step_noises = [torch.randn(SHAPE, generator=generator) for _ in range(steps)]
    drawn = iter(step_noises)
    scheduling_tcd.randn_tensor = lambda *a, **k: next(drawn)
    x = start * scheduler.init_noise_sigma
    for t in scheduler.timesteps:
        x = scheduler.step(toy_eps(scheduler.scale_model_input(x, t), int(t)), t, x, eta=eta).prev_sample
    key = "diffusers." + name
    tensors[key] = x.contiguous()
    tensors[key + ".start"] = start
    for i, n in enumerate(step_noises):
        tensors[f"{key}.noise.{i}"] = n
    diffusers_cases[name] = {"steps": steps, "eta": eta, "timesteps": [int(t) for t in scheduler.timesteps]}

save_file(tensors, OUT, metadata={
    "comfy_cases": json.dumps(comfy_cases), "diffusers_cases": json.dumps(diffusers_cases),
    "torch": torch.__version__, "diffusers": __import__("diffusers").__version__})
print(f"wrote {OUT}: {len(comfy_cases)} ComfyUI-TCD cases, {len(diffusers_cases)} diffusers cases")
print(json.dumps(diffusers_cases))
