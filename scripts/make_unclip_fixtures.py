#!/usr/bin/env python3
"""Writes Tests/LatentflowSamplingTests/Fixtures/unclip_adm.safetensors: ComfyUI v0.3.64's own
unCLIP `y` vector, `comfy.model_base.unclip_adm` over its `CLIPEmbeddingNoiseAugmentation`
(comfy/ldm/modules/encoders/noise_aug_modules.py) built with SD2.1-unCLIP's noise_aug_config from
comfy/supported_models.py (squaredcos_cap_v2 schedule, 1000 steps; timestep_dim shrunk to 32 so
the file stays small), on the `unclip_conditioning` lists `nodes.unCLIPConditioning` builds, with
the seed `SD21UNCLIP.encode_adm` passes (the sampling seed − 10).

Cases: one image (strength 1, augmentation 0), a batch of two image embeddings (strength 0.7,
augmentation 0.35), two chained unCLIPConditioning applies (merged with
unclip_noise_augment_merge 0.05, whose noise ComfyUI draws from the generator the last
per-image draw left), and a seed below 10 (torch wraps the negative seed).

Run by hand, never by CI:
  /work/venv-torch/bin/python scripts/make_unclip_fixtures.py /path/to/ComfyUI /tmp/cextra
"""

import json
import os
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from comfyui_boot import boot  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "LatentflowSamplingTests", "Fixtures",
                   "unclip_adm.safetensors")
DIM = 32


def main():
    torch.set_num_threads(1)
    comfyui, extra = sys.argv[1], sys.argv[2:]
    boot(comfyui)
    sys.path += extra
    import utils.install_util  # noqa: F401
    import comfy.clip_vision
    import comfy.model_base
    import comfy.supported_models
    from comfy.ldm.modules.encoders.noise_aug_modules import CLIPEmbeddingNoiseAugmentation
    import nodes

    config = dict(comfy.supported_models.SD21UnclipL.noise_aug_config, timestep_dim=DIM)
    augmentor = CLIPEmbeddingNoiseAugmentation(**config)

    torch.manual_seed(0)
    tensors, cases = {}, {}

    def vision(name, n):
        out = comfy.clip_vision.Output()
        out["image_embeds"] = torch.randn(n, DIM)
        tensors[name] = out.image_embeds
        return out

    a, b, c = vision("embeds_a", 1), vision("embeds_b", 2), vision("embeds_c", 1)
    apply = nodes.unCLIPConditioning().apply_adm
    base = [[torch.zeros(1, 77, 8), {}]]
    specs = {
        "single": ([(a, 1.0, 0.0)], 42),
        "batch": ([(b, 0.7, 0.35)], 1234),
        "chained": ([(a, 0.8, 0.1), (c, 1.3, 0.6)], 7),
        "small_seed": ([(a, 1.0, 0.5)], 3),
    }
    for name, (applies, seed) in specs.items():
        cond = base
        for out, strength, aug in applies:
            (cond,) = apply(cond, out, strength, aug)
        unclip = cond[0][1]["unclip_conditioning"]
        adm = comfy.model_base.unclip_adm(unclip, "cpu", augmentor, 0.05, seed - 10)
        tensors[name] = adm
        cases[name] = {"seed": seed, "applies": [
            {"embeds": next(k for k in ["embeds_a", "embeds_b", "embeds_c"] if tensors[k] is o.image_embeds),
             "strength": s, "noise_augmentation": g} for o, s, g in applies]}
    (same,) = apply(base, a, 0.0, 0.5)
    assert same is base  # strength 0 leaves the conditioning alone
    save_file({k: v.contiguous() for k, v in tensors.items()}, OUT,
              metadata={"cases": json.dumps(cases), "comfyui_version": "0.3.64", "timestep_dim": str(DIM),
                        "noise_augment_merge": "0.05"})
    print("wrote", OUT, {k: tuple(v.shape) for k, v in tensors.items()})


if __name__ == "__main__":
    main()
