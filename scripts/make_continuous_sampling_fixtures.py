#!/usr/bin/env python3
"""Writes Tests/LatentflowNodesTests/Fixtures/continuous_sampling.safetensors: ComfyUI v0.3.64's own
ModelSamplingContinuousEDM and ModelSamplingContinuousV (`comfy_extras/nodes_model_advanced.py`, run
from a checkout): the model_sampling object each installs (on a stand-in MODEL that records the object
patch), its sigma table, timestep / sigma / percent_to_sigma, calculate_input / calculate_denoised, the
schedules `comfy.samplers.calculate_sigmas` makes from it, and a KSAMPLER run (euler and dpmpp_2m) on
the stand-in model of make_sampling_fixtures.py (`stand_in_eps`, restated in the Swift test).

Run by hand, never by CI:
  /work/venv-torch/bin/python scripts/make_continuous_sampling_fixtures.py /path/to/ComfyUI [extra sys.path ...]
"""
import json
import os
import sys
import types

import torch
from safetensors.torch import save_file

torch.set_num_threads(1)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from comfyui_boot import boot  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "LatentflowNodesTests", "Fixtures",
                   "continuous_sampling.safetensors")
SCHEDULERS = ["simple", "sgm_uniform", "karras", "exponential", "ddim_uniform", "beta", "normal", "linear_quadratic",
              "kl_optimal"]


class StandInModel:
    """Stands in for a ModelPatcher: records the object patches the node sets."""

    def __init__(self):
        self.model = types.SimpleNamespace(model_config=None)
        self.objects = {}

    def clone(self):
        return self

    def add_object_patch(self, name, obj):
        self.objects[name] = obj


def stand_in_eps(x_in, timestep, context):
    return torch.tanh(x_in * 0.7 + context) * 0.9 + timestep.float() * 0.00005


def main():
    sys.path += sys.argv[2:]
    boot(sys.argv[1])
    import comfy.latent_formats
    import comfy.sample
    import comfy.samplers
    import comfyui_version
    from comfy_extras import nodes_model_advanced as advanced

    sd15 = comfy.latent_formats.SD15()
    tensors, cases = {}, {}
    torch.manual_seed(4)
    x = torch.randn(1, 4, 3, 5) * 2
    output = torch.randn(1, 4, 3, 5)
    tensors["x"], tensors["output"] = x, output
    runs = [("edm.v_prediction", advanced.ModelSamplingContinuousEDM, "v_prediction", 120.0, 0.002),
            ("edm.edm", advanced.ModelSamplingContinuousEDM, "edm", 80.0, 0.002),
            ("edm.eps", advanced.ModelSamplingContinuousEDM, "eps", 14.6, 0.03),
            ("v.v_prediction", advanced.ModelSamplingContinuousV, "v_prediction", 500.0, 0.03)]
    for name, node, sampling, sigma_max, sigma_min in runs:
        model = node().patch(StandInModel(), sampling, sigma_max, sigma_min)[0]
        ms = model.objects["model_sampling"]
        probe = torch.tensor([0.01, 0.5, 1.0, 7.3, 60.0])
        info = dict(sampling=sampling, sigma_max=sigma_max, sigma_min=sigma_min,
                    timesteps=[float(t) for t in ms.timestep(probe)], probe=[float(s) for s in probe],
                    sigma_of=[float(ms.sigma(torch.tensor(t))) for t in [-1.5, 0.0, 0.3, 0.9]],
                    percent=[ms.percent_to_sigma(p) for p in [0.0, 0.2, 0.5, 0.75, 1.0]],
                    schedules={})
        tensors[f"{name}.sigmas"] = ms.sigmas.float().contiguous()
        tensors[f"{name}.log_sigmas"] = ms.log_sigmas.float().contiguous()
        sigma = torch.tensor([2.5])
        tensors[f"{name}.input"] = ms.calculate_input(sigma, x).contiguous()
        tensors[f"{name}.denoised"] = ms.calculate_denoised(sigma, output, x).contiguous()
        for scheduler in SCHEDULERS:
            info["schedules"][scheduler] = [float(s) for s in comfy.samplers.calculate_sigmas(ms, scheduler, 6)]

        def predict(x, sigma, context):
            x_in = ms.calculate_input(sigma, x)
            t = ms.timestep(sigma).float()
            return ms.calculate_denoised(sigma, stand_in_eps(x_in, t.view(-1, 1, 1, 1), context), x)

        class Guided:
            inner_model = types.SimpleNamespace(model_sampling=ms)
            model_patcher = types.SimpleNamespace(get_model_object=lambda key: ms)

            def __call__(self, x, sigma, model_options={}, seed=None):
                cond, uncond = predict(x, sigma, 0.3), predict(x, sigma, -0.2)
                return uncond + (cond - uncond) * 3.0

        for sampler in ["euler", "dpmpp_2m"]:
            sigmas = comfy.samplers.calculate_sigmas(ms, "karras", 6)
            latent = torch.zeros(1, 4, 4, 4)
            noise = comfy.sample.prepare_noise(latent, 9, None)
            samples = comfy.samplers.sampler_object(sampler).sample(Guided(), sigmas, {"seed": 9}, None, noise, latent,
                                                                    None, True)
            tensors[f"{name}.{sampler}"] = sd15.process_out(samples.float()).contiguous()
        cases[name] = info

    save_file(tensors, OUT, metadata={"comfyui_version": comfyui_version.__version__, "cases": json.dumps(cases)})
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
