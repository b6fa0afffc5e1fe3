#!/usr/bin/env python3
"""Writes Tests/LatentflowNodesTests/Fixtures/masked_conditioning.safetensors: the guided
prediction ComfyUI v0.3.64 computes for masked and area conditioning, run from a checkout:
its own ConditioningSetMask / ConditioningSetArea nodes (`nodes.py`), `convert_cond`,
`resolve_areas_and_cond_masks_multidim` (mask resize, "mask bounds") and `sampling_function`
(`calc_cond_batch`, `get_area_and_mult`, `cfg_function`), with the UNet replaced by a stand-in.

Run by hand, never by CI:
  /work/venv-torch/bin/python scripts/make_masked_conditioning_fixtures.py /path/to/ComfyUI [extra sys.path ...]

Stand-in model (restated in the Swift test): every conditioning's text embedding is filled with
one value v, and the model returns `tanh(0.7·x + mean(context)) · 0.9 + 0.01·sigma`, so each
entry's prediction differs and only the masks, areas and weights decide how they mix.
"""

import json
import os
import sys
import types

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from comfyui_boot import boot  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "LatentflowNodesTests", "Fixtures",
                   "masked_conditioning.safetensors")


class StandInModel:
    """What `_calc_cond_batch` calls on the model: no hooks, no memory limit, the stand-in UNet."""

    def __init__(self):
        self.current_patcher = types.SimpleNamespace(apply_hooks=lambda hooks=None: {},
                                                     prepare_state=lambda timestep: None)

    def memory_required(self, input_shape, cond_shapes=None):
        return 0

    def apply_model(self, x, t, c_crossattn=None, **kwargs):
        context = c_crossattn.mean(dim=(1, 2)).view(-1, 1, 1, 1)
        return torch.tanh(x * 0.7 + context) * 0.9 + t.view(-1, 1, 1, 1) * 0.01


def main():
    sys.path += sys.argv[2:]
    boot(sys.argv[1])
    import comfy.conds
    import comfy.sampler_helpers
    import comfy.samplers
    import nodes

    torch.manual_seed(0)
    torch.set_num_threads(1)
    tensors, cases = {}, {}
    x = torch.randn(2, 4, 10, 12)
    tensors["x"] = x
    soft = torch.rand(2, 20, 23)  # pixel-size masks, resized to the 10x12 latent (bilinear)
    boxed = torch.zeros(1, 10, 12)
    boxed[0, 3:6, 7:10] = torch.rand(3, 3) + 0.1  # bounds 3x3 at (3, 7): grows to 8x8, clipped
    small = torch.zeros(1, 40, 48)
    small[0, 4:30, 8:20] = 1.0  # pixel size: the bounds come from the resized mask
    tensors.update({"soft": soft, "boxed": boxed, "small": small, "zeros": torch.zeros(1, 10, 12)})

    def build(spec):
        """One CONDITIONING list built by ComfyUI's nodes from a spec (recorded for the Swift test)."""
        conditioning = [[torch.full((1, 77, 8), spec["v"]), {}]]
        for step in spec.get("steps", []):
            if step[0] == "mask":
                _, key, strength, area_mode = step
                conditioning = nodes.ConditioningSetMask().append(conditioning, tensors[key], area_mode, strength)[0]
            else:
                _, width, height, px, py, strength = step
                conditioning = nodes.ConditioningSetArea().append(conditioning, width, height, px, py, strength)[0]
        return conditioning

    def conds(specs):
        out = []
        for spec in specs:
            for c in comfy.sampler_helpers.convert_cond(build(spec)):
                c["model_conds"] = {"c_crossattn": comfy.conds.CONDCrossAttn(c["cross_attn"])}
                out.append(c)
        comfy.samplers.resolve_areas_and_cond_masks_multidim(out, x.shape[2:], "cpu")
        return out

    def case(name, positive, negative, cfg, sigma=2.5):
        cond, uncond = conds(positive), conds(negative)
        sigmas = torch.full((x.shape[0],), sigma)
        out = comfy.samplers.sampling_function(StandInModel(), x, sigmas, uncond, cond, cfg, model_options={})
        tensors[name] = out
        cases[name] = {"positive": positive, "negative": negative, "cfg": cfg, "sigma": sigma,
                       "areas": [list(c.get("area", ())) for c in cond]}

    plain = {"v": -0.5}
    case("soft_mask_default", [{"v": 0.25, "steps": [["mask", "soft", 0.8, "default"]]}, plain],
         [{"v": 0.75}], 7.5)
    case("mask_bounds", [{"v": 0.25, "steps": [["mask", "boxed", 1.5, "mask bounds"]]},
                         {"v": 1.5, "steps": [["area", 48, 64, 16, 8, 0.7]]}],
         [{"v": 0.75, "steps": [["mask", "soft", 1.0, "mask bounds"]]}], 4.0)
    case("resized_mask_bounds", [{"v": 0.25, "steps": [["mask", "small", 1.0, "mask bounds"]]}, plain],
         [{"v": 0.75}], 3.0)
    case("zero_mask_bounds", [{"v": 0.25, "steps": [["mask", "zeros", 1.0, "mask bounds"]]}, plain],
         [{"v": 0.75}], 2.0)
    case("mask_then_area", [{"v": 0.25, "steps": [["mask", "soft", 1.2, "mask bounds"],
                                                 ["area", 64, 40, 24, 16, 0.9]]}, plain], [{"v": 0.75}], 5.0)
    case("small_area_feather", [{"v": 0.25, "steps": [["area", 72, 56, 8, 16, 1.0]]}, plain], [{"v": 0.75}], 6.0)
    case("cfg1_mask", [{"v": 0.25, "steps": [["mask", "soft", 0.5, "default"]]}, plain], [{"v": 0.75}], 1.0)

    save_file(tensors, OUT, metadata={"cases": json.dumps(cases), "comfyui_version": "0.3.64"})
    print("wrote", OUT, {k: v["areas"] for k, v in cases.items()}, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
