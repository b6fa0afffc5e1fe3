#!/usr/bin/env python3
"""Writes Tests/LatentflowNodesTests/Fixtures/fresca.safetensors: ComfyUI v0.3.64's own FreSca
(`comfy_extras/nodes_fresca.py`: its pre-CFG function around `Fourier_filter`, torch.fft), run from a
checkout on seeded predictions of even and odd sizes, with cutoffs inside and beyond half the size.

Run by hand, never by CI:
  /work/venv-torch/bin/python scripts/make_fresca_fixtures.py /path/to/ComfyUI [extra sys.path ...]
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
                   "fresca.safetensors")


class RecordingModel:
    def clone(self):
        return self

    def set_model_sampler_pre_cfg_function(self, fn, disable_cfg1_optimization=False):
        self.pre_cfg = fn


def main():
    sys.path += sys.argv[2:]
    boot(sys.argv[1])
    import comfyui_version
    from comfy_extras import nodes_fresca

    torch.manual_seed(12)
    tensors, cases = {}, {}
    for name, (shape, low, high, cutoff) in {
            "even": ((2, 4, 8, 8), 0.7, 1.3, 2), "odd": ((1, 4, 7, 9), 1.5, 0.6, 3),
            "wide": ((1, 4, 6, 10), 0.4, 1.25, 20), "one": ((1, 4, 5, 6), 2.0, 1.0, 1),
            "defaults": ((1, 4, 16, 12), 1.0, 1.25, 20)}.items():
        cond, uncond = torch.randn(shape), torch.randn(shape)
        model = nodes_fresca.FreSca.execute(RecordingModel(), low, high, cutoff).args[0]
        out = model.pre_cfg({"conds_out": [cond.clone(), uncond.clone()], "conds": ["c", "u"]})
        skipped = model.pre_cfg({"conds_out": [cond.clone(), torch.zeros(shape)], "conds": ["c", None]})
        assert torch.equal(skipped[0], cond)
        tensors[f"{name}.cond"], tensors[f"{name}.uncond"], tensors[f"{name}.out"] = cond, uncond, out[0].contiguous()
        cases[name] = dict(scale_low=low, scale_high=high, freq_cutoff=cutoff)
    save_file(tensors, OUT, metadata={"comfyui_version": comfyui_version.__version__, "cases": json.dumps(cases)})
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
