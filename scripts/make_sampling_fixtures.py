"""Reference schedules and sampler outputs computed by ComfyUI's own code.

Run by hand (never by CI), against a ComfyUI checkout:
    pip install torch torchsde einops scipy tqdm psutil av aiohttp safetensors transformers
    python3 scripts/make_sampling_fixtures.py --comfyui /path/to/ComfyUI
The checkout used for the committed fixtures is recorded in their metadata (comfyui_version).

ComfyUI's sampling code runs unchanged: its ModelSamplingDiscrete / LCM classes (built the way
the ModelSamplingDiscrete node builds them), calculate_sigmas, prepare_noise, KSampler.set_steps,
and KSAMPLER.sample with the k-diffusion sampler functions. Only the UNet is replaced, by a
deterministic stand-in (`stand_in_eps` below, restated in the Swift test) behind the same
calculate_input / calculate_denoised / CFG path.
"""
import argparse
import json
import os
import sys
import types

parser = argparse.ArgumentParser()
parser.add_argument("--comfyui", default=os.environ.get("COMFYUI_PATH"), required=False)
args = parser.parse_args()
if not args.comfyui:
    sys.exit("pass --comfyui /path/to/ComfyUI (or set COMFYUI_PATH)")
os.chdir(args.comfyui)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from comfyui_boot import boot  # noqa: E402
boot(args.comfyui)
import torch  # noqa: E402
import comfy.latent_formats  # noqa: E402
import comfy.model_sampling  # noqa: E402
import comfy.sample  # noqa: E402
import comfy.samplers  # noqa: E402
import comfyui_version  # noqa: E402
from comfy_extras import nodes_model_advanced  # noqa: E402
from safetensors.torch import save_file  # noqa: E402


def model_sampling(sampling, zsnr=False):
    """What ComfyUI's ModelSamplingDiscrete node installs on a model."""
    base = comfy.model_sampling.ModelSamplingDiscrete
    kind = {"eps": comfy.model_sampling.EPS, "v_prediction": comfy.model_sampling.V_PREDICTION,
            "x0": comfy.model_sampling.X0}.get(sampling)
    if sampling == "lcm":
        base, kind = nodes_model_advanced.ModelSamplingDiscreteDistilled, nodes_model_advanced.LCM

    class ModelSamplingAdvanced(base, kind):
        pass
    return ModelSamplingAdvanced(None, zsnr=zsnr)


def stand_in_eps(x_in, timestep, context):
    """A deterministic stand-in for the UNet's epsilon prediction."""
    return torch.tanh(x_in * 0.7 + context) * 0.9 + timestep.float() * 0.00005


class StandInModel:
    """Plays the part of ComfyUI's CFGGuider-wrapped model for KSAMPLER.sample."""
    def __init__(self, ms, cfg):
        self.inner_model = types.SimpleNamespace(model_sampling=ms)
        self.model_patcher = types.SimpleNamespace(get_model_object=lambda key: ms)  # the SDE samplers ask for it
        self.ms, self.cfg = ms, cfg

    def predict(self, x, sigma, context):
        ms = self.ms
        x_in = ms.calculate_input(sigma, x)
        t = ms.timestep(sigma).float()
        return ms.calculate_denoised(sigma, stand_in_eps(x_in, t.view(-1, 1, 1, 1), context), x)

    def __call__(self, x, sigma, model_options={}, seed=None):
        cond = self.predict(x, sigma, 0.3)
        if abs(self.cfg - 1.0) < 1e-9:  # math.isclose(cfg, 1.0): the negative pass is skipped
            return cond
        uncond = self.predict(x, sigma, -0.2)
        return uncond + (cond - uncond) * self.cfg


tensors, cases = {}, {}
sd15 = comfy.latent_formats.SD15()


def run_case(name, sampling, sampler, scheduler, steps, cfg, seed, shape, denoise=1.0, latent=None,
             batch_index=None, start_step=None, last_step=None, force_full_denoise=False, add_noise=True):
    ms = model_sampling(sampling)
    fake_patcher = types.SimpleNamespace(get_model_object=lambda key: ms)
    ksampler = comfy.samplers.KSampler(fake_patcher, steps=steps, device="cpu", sampler=sampler, scheduler=scheduler, denoise=denoise)
    sigmas = ksampler.sigmas
    if last_step is not None and last_step < len(sigmas) - 1:
        sigmas = sigmas[:last_step + 1]
        if force_full_denoise:
            sigmas[-1] = 0
    if start_step is not None:
        sigmas = sigmas[start_step:]
    latent_image = torch.zeros(shape) if latent is None else latent
    noise = comfy.sample.prepare_noise(latent_image, seed, batch_index) if add_noise else torch.zeros(shape)
    latent_in = sd15.process_in(latent_image) if torch.count_nonzero(latent_image) > 0 else latent_image
    schedule = [float(s) for s in sigmas]  # before sampling: uni_pc sets the last sigma to 0.001 in place
    samples = comfy.samplers.sampler_object(sampler).sample(StandInModel(ms, cfg), sigmas, {"seed": seed}, None, noise, latent_in, None, True)
    samples = sd15.process_out(samples.to(torch.float32))
    tensors[name] = samples.contiguous()
    if latent is not None:
        tensors[name + ".latent"] = latent.clone().contiguous()
    cases[name] = dict(sampling=sampling, sampler=sampler, scheduler=scheduler, steps=steps, cfg=cfg, seed=str(seed),
                       shape=list(shape), denoise=denoise, batch_index=batch_index, start_step=start_step,
                       last_step=last_step, force_full_denoise=force_full_denoise, add_noise=add_noise,
                       has_latent=latent is not None, sigmas=schedule)


implemented_samplers = ["euler", "euler_ancestral", "heun", "heunpp2", "lms", "ipndm", "ipndm_v", "res_multistep", "res_multistep_ancestral", "er_sde", "seeds_2", "seeds_3", "gradient_estimation", "dpm_2", "dpm_2_ancestral", "dpmpp_2s_ancestral", "dpmpp_2m", "ddim", "ddpm", "lcm",
                        "dpmpp_sde", "dpmpp_2m_sde", "dpmpp_2m_sde_heun", "dpmpp_3m_sde", "uni_pc", "uni_pc_bh2"]
implemented_schedulers = ["simple", "sgm_uniform", "karras", "exponential", "ddim_uniform", "beta", "normal", "linear_quadratic", "kl_optimal"]
for sampler in implemented_samplers:
    for scheduler in implemented_schedulers:
        run_case(f"{sampler}.{scheduler}", "eps", sampler, scheduler, 5, 1.0, 42, (1, 4, 4, 4))
torch.manual_seed(3)
encoded = torch.randn(2, 4, 4, 6) * 3
for steps in [4, 6, 8]:
    run_case(f"lcm_lcm.sgm_uniform.{steps}", "lcm", "lcm", "sgm_uniform", steps, 1.0, 2**32 + 5, (1, 4, 6, 4))
run_case("lcm_lcm.cfg1.8.batch2", "lcm", "lcm", "sgm_uniform", 4, 1.8, 7, (2, 4, 5, 3))
run_case("lcm_lcm.denoise0.6", "lcm", "lcm", "simple", 4, 1.0, 11, (2, 4, 4, 6), denoise=0.6, latent=encoded)
run_case("euler_ancestral.karras.cfg7.batchindex", "eps", "euler_ancestral", "karras", 6, 7.0, 123, (2, 4, 4, 4), batch_index=[1, 3])
run_case("dpmpp_2m.karras.denoise0.5", "eps", "dpmpp_2m", "karras", 8, 5.0, 5, (2, 4, 4, 6), denoise=0.5, latent=encoded)
# The SDE samplers' Brownian-tree noise with the settings ComfyUI's templates use: denoise < 1,
# cfg > 1, a batch, seeds above 2^32, and the _gpu spellings (the same tree on CPU).
run_case("dpmpp_sde.normal.cfg8.batch2", "eps", "dpmpp_sde", "normal", 7, 8.0, 873141143997374, (2, 4, 5, 3))
run_case("dpmpp_sde_gpu.simple.denoise0.35", "eps", "dpmpp_sde_gpu", "simple", 8, 13.0, 2**32 + 9, (1, 4, 4, 6),
         denoise=0.35, latent=encoded[:1].clone())
run_case("dpmpp_2m_sde_gpu.karras.cfg5", "eps", "dpmpp_2m_sde_gpu", "karras", 9, 5.0, 77, (1, 4, 6, 5))
run_case("dpmpp_3m_sde_gpu.exponential.v_prediction", "v_prediction", "dpmpp_3m_sde_gpu", "exponential", 7, 3.0, 31, (1, 4, 4, 4))
run_case("uni_pc_bh2.karras.cfg6.denoise0.7.batch2", "eps", "uni_pc_bh2", "karras", 9, 6.0, 12, (2, 4, 4, 6), denoise=0.7, latent=encoded)
run_case("uni_pc.normal.2steps", "eps", "uni_pc", "normal", 2, 3.0, 13, (1, 4, 4, 4))
run_case("v_prediction.euler.normal", "v_prediction", "euler", "normal", 6, 3.0, 9, (1, 4, 4, 4))
run_case("advanced.leftover", "eps", "euler", "normal", 10, 2.0, 21, (1, 4, 4, 4), start_step=0, last_step=4, force_full_denoise=False)
run_case("advanced.continue", "eps", "euler", "normal", 10, 2.0, 21, (1, 4, 4, 4), start_step=4, last_step=10000,
         force_full_denoise=True, add_noise=False, latent=encoded[:1, :, :, :4].clone())

# Schedules alone, for exact comparison.
schedules = {}
for sampling in ["eps", "lcm"]:
    ms = model_sampling(sampling)
    schedules[f"{sampling}.table"] = [float(s) for s in ms.sigmas]
    schedules[f"{sampling}.log_table"] = [float(s) for s in ms.log_sigmas]
    for scheduler in implemented_schedulers:
        for steps in [1, 2, 4, 6, 8, 20, 30]:
            if scheduler == "kl_optimal" and steps == 1:
                continue  # divides by steps - 1: NaN in ComfyUI too
            sig = comfy.samplers.calculate_sigmas(ms, scheduler, steps)
            schedules[f"{sampling}.{scheduler}.{steps}"] = [float(s) for s in sig]
            schedules[f"{sampling}.{scheduler}.{steps}.timesteps"] = [float(ms.timestep(s)) for s in sig[:-1]]
ms = model_sampling("eps", zsnr=True)
schedules["eps_zsnr.table"] = [float(s) for s in ms.sigmas]

# torchsde's Brownian tree and NumPy's SeedSequence on their own, queried the way the samplers do.
import numpy as np  # noqa: E402
import torchsde  # noqa: E402
brownian = {}
for seed, shape, t0, t1, queries in [
        (0, (1, 4, 5, 3), 0.0291675, 14.614642, [(14.614642, 7.5), (7.5, 3.25), (0.0291675, 1.0), (2.0, 2.5)]),
        (2**32 + 7, (2, 4, 4, 4), 0.5, 10.0, [(9.99, 0.501), (3.3, 3.3001), (0.5, 10.0)]),
        (873141143997374, (17,), 0.1, 0.9, [(0.1, 0.9), (0.35, 0.2), (0.899999, 0.1)])]:
    tree = torchsde.BrownianTree(torch.tensor(t0), torch.zeros(shape), torch.tensor(t1), entropy=seed, tol=1e-6, pool_size=24)
    for index, (a, b) in enumerate(queries):
        lo, hi = sorted((a, b))
        name = f"brownian.{seed}.{index}"
        tensors[name] = tree(torch.tensor(lo), torch.tensor(hi)).contiguous()
        brownian[name] = dict(seed=str(seed), shape=list(shape), t0=float(torch.tensor(t0)), t1=float(torch.tensor(t1)),
                              ta=float(torch.tensor(lo)), tb=float(torch.tensor(hi)))
seed_sequences = []
for entropy, spawn_key, pool_size in [(0, (), 4), (42, (), 24), (2**32 + 7, (0, 0), 24), (873141143997374, (5, 3), 24),
                                      (12345, (2**33 + 1, 34), 24), (7, (1,), 4)]:
    words = np.random.SeedSequence(entropy=entropy, spawn_key=spawn_key, pool_size=pool_size).generate_state(6)
    seed_sequences.append(dict(entropy=str(entropy), spawn_key=[str(k) for k in spawn_key], pool_size=pool_size,
                               words=[int(w) for w in words]))

out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "LatentflowSamplingTests", "Fixtures")
save_file(tensors, os.path.join(out_dir, "samplers.safetensors"),
          metadata={"cases": json.dumps(cases), "brownian": json.dumps(brownian), "seed_sequences": json.dumps(seed_sequences),
                    "numpy": np.__version__, "torchsde": torchsde.__version__, "comfyui_version": comfyui_version.__version__, "torch": torch.__version__})
with open(os.path.join(out_dir, "schedules.json"), "w") as f:
    json.dump({"comfyui_version": comfyui_version.__version__, "schedules": schedules}, f)
print(f"wrote {len(cases)} sampler cases and {len(schedules)} schedules (ComfyUI {comfyui_version.__version__})")
