#!/usr/bin/env python3
"""Writes Tests/LatentflowNodesTests/Fixtures/latent_operation_cfg.safetensors: ComfyUI v0.3.64's own
LatentApplyOperationCFG (`comfy_extras/nodes_latent.py`, run from a checkout) with its
LatentOperationSharpen, as the pre-CFG function it installs sees seeded predictions: with a negative,
and with the zeros cfg 1 leaves in its place.

Run by hand, never by CI:
  /work/venv-torch/bin/python scripts/make_latent_operation_cfg_fixtures.py /path/to/ComfyUI [extra sys.path ...]
"""

import os
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from comfyui_boot import boot  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "LatentflowNodesTests", "Fixtures",
                   "latent_operation_cfg.safetensors")


class RecordingModel:
    """Stands in for a ModelPatcher: records the pre-CFG function the node sets."""

    def clone(self):
        return self

    def set_model_sampler_pre_cfg_function(self, fn, disable_cfg1_optimization=False):
        self.pre_cfg = fn


def main():
    sys.path += sys.argv[2:]
    boot(sys.argv[1])
    import comfy_extras.nodes_latent as latent

    torch.manual_seed(0)
    cond, uncond = torch.randn(2, 4, 6, 7), torch.randn(2, 4, 6, 7)
    operation = latent.LatentOperationSharpen().op(sharpen_radius=2, sigma=0.8, alpha=0.6)[0]
    model = latent.LatentApplyOperationCFG().patch(RecordingModel(), operation)[0]
    with_negative = model.pre_cfg({"conds_out": [cond.clone(), uncond.clone()]})[0]
    skipped = model.pre_cfg({"conds_out": [cond.clone(), torch.zeros_like(cond)]})[0]
    save_file({"cond": cond, "uncond": uncond, "with_negative": with_negative, "skipped": skipped}, OUT)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
