#!/usr/bin/env python3
"""Writes Tests/LatentflowNodesTests/Fixtures/apg_mahiro.safetensors: ComfyUI v0.3.64's own APG
(`comfy_extras/nodes_apg.py`, its pre-CFG function with momentum, norm threshold and the reset when
sigma rises) and Mahiro (`comfy_extras/nodes_mahiro.py`, its post-CFG function), run from a checkout on
seeded predictions, as the functions the nodes install see them.

Run by hand, never by CI:
  /work/venv-torch/bin/python scripts/make_apg_mahiro_fixtures.py /path/to/ComfyUI [extra sys.path ...]
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file

torch.set_num_threads(1)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from comfyui_boot import boot  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "LatentflowNodesTests", "Fixtures",
                   "apg_mahiro.safetensors")


class RecordingModel:
    """Stands in for a ModelPatcher: records the sampler functions the nodes set."""

    def clone(self):
        return self

    def set_model_sampler_pre_cfg_function(self, fn, disable_cfg1_optimization=False):
        self.pre_cfg = fn

    def set_model_sampler_post_cfg_function(self, fn, disable_cfg1_optimization=False):
        self.post_cfg = fn


def main():
    sys.path += sys.argv[2:]
    boot(sys.argv[1])
    import comfyui_version
    from comfy_extras import nodes_apg, nodes_mahiro

    torch.manual_seed(11)
    tensors, cases = {}, {}
    sigmas = [9.0, 5.0, 2.0, 12.0, 1.0]  # the rise to 12 starts a new run: APG's momentum resets
    for i in range(len(sigmas)):
        tensors[f"cond.{i}"] = torch.randn(2, 4, 3, 5)
        tensors[f"uncond.{i}"] = torch.randn(2, 4, 3, 5) * 0.8
    for name, (eta, threshold, momentum, scale) in {
            "defaults": (1.0, 5.0, 0.0, 6.0), "momentum": (0.4, 3.0, -0.6, 4.5),
            "no_threshold": (-1.5, 0.0, 0.7, 7.0), "tiny_threshold": (2.0, 0.2, 0.0, 3.0)}.items():
        model = nodes_apg.APG.execute(RecordingModel(), eta, threshold, momentum).args[0]
        for i, sigma in enumerate(sigmas):
            out = model.pre_cfg({"conds_out": [tensors[f"cond.{i}"].clone(), tensors[f"uncond.{i}"].clone()],
                                 "sigma": torch.tensor([sigma, sigma]), "cond_scale": scale})
            tensors[f"apg.{name}.{i}"] = out[0].contiguous()
        cases[name] = dict(eta=eta, norm_threshold=threshold, momentum=momentum, cond_scale=scale)

    model = nodes_mahiro.Mahiro.execute(RecordingModel()).args[0]
    for i, scale in enumerate([5.0, 1.0, 7.5]):
        cond, uncond = tensors[f"cond.{i}"], tensors[f"uncond.{i}"] if i != 1 else torch.zeros(2, 4, 3, 5)
        denoised = uncond + (cond - uncond) * scale
        tensors[f"mahiro.{i}"] = model.post_cfg({"cond_scale": scale, "cond_denoised": cond, "uncond_denoised": uncond,
                                                  "denoised": denoised}).contiguous()
    save_file(tensors, OUT, metadata={"comfyui_version": comfyui_version.__version__, "sigmas": json.dumps(sigmas),
                                      "apg": json.dumps(cases), "mahiro_scales": json.dumps([5.0, 1.0, 7.5])})
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
