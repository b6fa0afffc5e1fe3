#!/usr/bin/env python3
"""Writes Tests/LatentflowNodesTests/Fixtures/sampler_options.safetensors: ComfyUI v0.3.64's own
sampler-parameter nodes (SamplerDPMPP_SDE, SamplerDPMPP_2M_SDE, SamplerDPMPP_3M_SDE, SamplerER_SDE,
SamplerEulerCFGpp, SamplerLCMUpscale), SamplingPercentToSigma, AddNoise and DualCFGGuider, run from
a checkout.

Each SAMPLER the nodes hand out runs through ComfyUI's KSAMPLER.sample (prepare_noise, noise_scaling,
its k-diffusion function with the node's options, process_latent_out) on the stand-in model of
make_sampling_fixtures.py (`stand_in_eps`, restated in the Swift test), whose CFG wrapper applies the
`sampler_post_cfg_function`s and `disable_cfg1_optimization` the CFG++ samplers set, as
comfy/samplers.py `sampling_function` does. DualCFGGuider's guider runs its own `predict_noise` (and
ComfyUI's `cfg_function`) with `calc_cond_batch` replaced by the stand-in predictions of each cond.

Run by hand, never by CI:
  /work/venv-torch/bin/python scripts/make_sampler_option_fixtures.py /path/to/ComfyUI [extra sys.path ...]
"""
import json
import math
import os
import sys
import types

import torch
from safetensors.torch import save_file

torch.set_num_threads(1)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from comfyui_boot import boot  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "LatentflowNodesTests",
                   "Fixtures", "sampler_options.safetensors")


def stand_in_eps(x_in, timestep, context):
    """A deterministic stand-in for the UNet's epsilon prediction."""
    return torch.tanh(x_in * 0.7 + context) * 0.9 + timestep.float() * 0.00005


def main():
    sys.path += sys.argv[2:]
    boot(sys.argv[1])
    import comfy.latent_formats
    import comfy.model_sampling
    import comfy.sample
    import comfy.samplers
    import comfyui_version
    from comfy_extras import nodes_advanced_samplers as advanced
    from comfy_extras import nodes_custom_sampler as custom

    class Sampling(comfy.model_sampling.ModelSamplingDiscrete, comfy.model_sampling.EPS):
        pass

    ms = Sampling(None)
    sd15 = comfy.latent_formats.SD15()

    def predict(x, sigma, context):
        x_in = ms.calculate_input(sigma, x)
        t = ms.timestep(sigma).float()
        return ms.calculate_denoised(sigma, stand_in_eps(x_in, t.view(-1, 1, 1, 1), context), x)

    class StandInModel:
        """Plays the part of ComfyUI's CFGGuider-wrapped model for KSAMPLER.sample."""

        def __init__(self, cfg):
            self.inner_model = types.SimpleNamespace(model_sampling=ms)
            self.model_patcher = types.SimpleNamespace(get_model_object=lambda key: ms)
            self.cfg = cfg

        def __call__(self, x, sigma, model_options={}, seed=None):
            cond = predict(x, sigma, 0.3)
            skip = math.isclose(self.cfg, 1.0) and not model_options.get("disable_cfg1_optimization", False)
            uncond = torch.zeros_like(cond) if skip else predict(x, sigma, -0.2)
            denoised = cond if skip else uncond + (cond - uncond) * self.cfg
            for fn in model_options.get("sampler_post_cfg_function", []):
                denoised = fn({"denoised": denoised, "cond": None, "uncond": None, "model": None,
                               "uncond_denoised": uncond, "cond_denoised": cond, "sigma": sigma,
                               "model_options": model_options, "input": x})
            return denoised

    tensors, cases = {}, {}

    def run(name, sampler, sigmas, cfg, seed, shape, inputs):
        latent = torch.zeros(shape)
        noise = comfy.sample.prepare_noise(latent, seed, None)
        sigmas = torch.tensor(sigmas, dtype=torch.float32)
        samples = sampler.sample(StandInModel(cfg), sigmas, {"seed": seed}, None, noise, latent, None, True)
        tensors[name] = sd15.process_out(samples.to(torch.float32)).contiguous()
        cases[name] = dict(inputs=inputs, sigmas=[float(s) for s in sigmas], cfg=cfg, seed=seed, shape=list(shape))

    karras = [float(s) for s in comfy.samplers.calculate_sigmas(ms, "karras", 7)]
    normal = [float(s) for s in comfy.samplers.calculate_sigmas(ms, "normal", 6)]
    shape = (1, 4, 4, 4)

    node = custom.SamplerDPMPP_SDE()
    run("SamplerDPMPP_SDE.cpu", node.get_sampler(0.6, 0.8, 0.3, "cpu")[0], karras, 4.0, 31, shape,
        dict(eta=0.6, s_noise=0.8, r=0.3, noise_device="cpu"))
    run("SamplerDPMPP_SDE.gpu", node.get_sampler(1.4, 1.2, 0.7, "gpu")[0], normal, 3.0, 32, shape,
        dict(eta=1.4, s_noise=1.2, r=0.7, noise_device="gpu"))
    run("SamplerDPMPP_SDE.eta0", node.get_sampler(0.0, 1.0, 0.5, "cpu")[0], karras, 2.0, 33, shape,
        dict(eta=0.0, s_noise=1.0, r=0.5, noise_device="cpu"))
    node = custom.SamplerDPMPP_2M_SDE()
    run("SamplerDPMPP_2M_SDE.midpoint", node.get_sampler("midpoint", 0.5, 1.3, "cpu")[0], karras, 5.0, 34, shape,
        dict(solver_type="midpoint", eta=0.5, s_noise=1.3, noise_device="cpu"))
    run("SamplerDPMPP_2M_SDE.heun", node.get_sampler("heun", 0.7, 0.9, "gpu")[0], normal, 3.0, 35, shape,
        dict(solver_type="heun", eta=0.7, s_noise=0.9, noise_device="gpu"))
    run("SamplerDPMPP_2M_SDE.snoise0", node.get_sampler("heun", 1.0, 0.0, "cpu")[0], karras, 3.0, 36, shape,
        dict(solver_type="heun", eta=1.0, s_noise=0.0, noise_device="cpu"))
    node = custom.SamplerDPMPP_3M_SDE()
    run("SamplerDPMPP_3M_SDE.options", node.get_sampler(0.4, 1.1, "cpu")[0], karras, 4.0, 37, shape,
        dict(eta=0.4, s_noise=1.1, noise_device="cpu"))
    run("SamplerDPMPP_3M_SDE.eta0", node.get_sampler(0.0, 1.0, "gpu")[0], normal, 4.0, 38, shape,
        dict(eta=0.0, s_noise=1.0, noise_device="gpu"))
    node = custom.SamplerER_SDE()
    for i, (solver, stage, eta, s_noise) in enumerate([("ER-SDE", 2, 1.0, 0.7), ("Reverse-time SDE", 3, 0.5, 1.0),
                                                       ("Reverse-time SDE", 3, 0.0, 1.0), ("ODE", 1, 1.0, 1.0),
                                                       ("ER-SDE", 3, 1.0, 1.0)]):
        run(f"SamplerER_SDE.{i}", node.get_sampler(solver, stage, eta, s_noise)[0], karras, 3.0, 40 + i, shape,
            dict(solver_type=solver, max_stage=stage, eta=eta, s_noise=s_noise))
    for version in ["regular", "alternative"]:
        for cfg in [1.0, 1.6]:
            run(f"SamplerEulerCFGpp.{version}.{cfg}", advanced.SamplerEulerCFGpp.execute(version).args[0], normal,
                cfg, 50, shape, dict(version=version))
    for i, (ratio, steps, method) in enumerate([(1.5, -1, "bislerp"), (2.0, 2, "nearest-exact"),
                                                (1.3, 10, "bilinear"), (1.75, 3, "area"), (1.2, 0, "bicubic")]):
        run(f"SamplerLCMUpscale.{i}", advanced.SamplerLCMUpscale.execute(ratio, steps, method).args[0], normal,
            1.0, 60 + i, (1, 4, 4, 6), dict(scale_ratio=ratio, scale_steps=steps, upscale_method=method))

    # SamplingPercentToSigma on the SD1.5 table.
    percent_node, patcher = custom.SamplingPercentToSigma(), types.SimpleNamespace(get_model_object=lambda key: ms)
    percents = {}
    for percent in [0.0, 0.1, 0.25, 0.5, 0.8765, 1.0]:
        for actual in [False, True]:
            percents[f"{percent}.{actual}"] = percent_node.get_sigma(patcher, percent, actual)[0]

    # AddNoise: seeded noise scaled by |σ_first − σ_last| (or the one σ) onto the latent in model space.
    torch.manual_seed(5)
    latent = torch.randn(2, 4, 3, 5)
    tensors["AddNoise.latent"] = latent.clone()
    noise_model = types.SimpleNamespace(get_model_object=lambda key: {
        "model_sampling": ms, "process_latent_in": sd15.process_in, "process_latent_out": sd15.process_out}[key])
    add = custom.AddNoise()
    for name, sigmas, samples in [("two", karras, latent), ("one", [3.5], latent), ("zeros", normal[2:], torch.zeros(2, 4, 3, 5))]:
        out = add.add_noise(noise_model, custom.Noise_RandomNoise(77), torch.tensor(sigmas), {"samples": samples.clone()})[0]
        tensors[f"AddNoise.{name}"] = out["samples"].contiguous()
        cases[f"AddNoise.{name}"] = dict(sigmas=sigmas, seed=77)

    # DualCFGGuider: its predict_noise on the stand-in predictions of each cond.
    contexts = {"positive": 0.3, "middle": -0.05, "negative": -0.2}
    torch.manual_seed(6)
    x = torch.randn(1, 4, 4, 4) * 3
    tensors["DualCFG.x"] = x.clone()

    def calc_cond_batch(model, conds, x, timestep, model_options):
        return [torch.zeros_like(x) if c is None else predict(x, timestep, contexts[c]) for c in conds]
    comfy.samplers.calc_cond_batch = calc_cond_batch
    for style in ["regular", "nested"]:
        for cfg1, cfg2 in [(3.0, 5.0), (1.0, 1.0), (2.5, 1.0)]:
            guider = custom.Guider_DualCFG.__new__(custom.Guider_DualCFG)
            guider.set_cfg(cfg1, cfg2, nested=style == "nested")
            guider.conds = {"positive": "positive", "middle": "middle", "negative": "negative"}
            guider.inner_model = None
            name = f"DualCFG.{style}.{cfg1}.{cfg2}"
            tensors[name] = guider.predict_noise(x, torch.tensor([2.7]), {}).contiguous()
            cases[name] = dict(style=style, cfg_conds=cfg1, cfg_cond2_negative=cfg2, sigma=2.7)

    metadata = {"comfyui_version": comfyui_version.__version__, "cases": json.dumps(cases),
                "percent_to_sigma": json.dumps(percents), "contexts": json.dumps(contexts)}
    save_file(tensors, OUT, metadata=metadata)
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
