#!/usr/bin/env python3
"""Writes Tests/LatentflowModelsTests/Fixtures/unet_adm.safetensors: ComfyUI v0.3.64's own
`UNetModel` (comfy/ldm/modules/diffusionmodules/openaimodel.py) with SD2.1-unCLIP's class
embedding (`num_classes="sequential"`, `adm_in_channels`: the `label_emb.0.0` / `label_emb.0.2`
MLP added to the timestep embedding), built from the tiny checkpoint's detected UNet config
(scripts/comfyui_tiny.py) with the checkpoint's UNet weights and random `label_emb.*` weights
(float16-exact, stored here with the inputs and ComfyUI's output for `y`).

Run by hand, never by CI:
  /work/venv-torch/bin/python scripts/make_unet_adm_fixtures.py /path/to/ComfyUI /tmp/cextra
"""
import os
import sys

import torch
from safetensors.torch import save_file

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(SCRIPTS, "..")
OUT = os.path.join(ROOT, "Tests", "LatentflowModelsTests", "Fixtures", "unet_adm.safetensors")
ADM = 32


def main():
    torch.set_num_threads(1)
    torch.set_grad_enabled(False)
    comfyui, extra = sys.argv[1], sys.argv[2:]
    sys.path.insert(0, SCRIPTS)
    from comfyui_boot import boot
    boot(comfyui)
    sys.path += extra
    import utils.install_util  # noqa: F401
    import comfy.ops
    from comfy.ldm.modules.diffusionmodules.openaimodel import UNetModel
    import comfyui_tiny

    base = comfyui_tiny.load_checkpoint(os.path.join(ROOT, "models", "checkpoints", "latentflow-tiny-sd15.safetensors"))
    config = dict(base.model.model_config.unet_config, num_classes="sequential", adm_in_channels=ADM)
    unet = UNetModel(operations=comfy.ops.disable_weight_init, device="cpu", **config)
    state = {k: v.float() for k, v in base.model.diffusion_model.state_dict().items()}
    torch.manual_seed(2040)
    label = {k: (torch.randn(v.shape) * (0.5 / v.shape[-1] ** 0.5 if v.dim() > 1 else 0.1)).half().float()
             for k, v in unet.state_dict().items() if k.startswith("label_emb.")}
    missing, unexpected = unet.load_state_dict(dict(state, **label), strict=True), None
    x, context, y = torch.randn(2, 4, 8, 8), torch.randn(2, 5, 32), torch.randn(2, ADM)
    t = torch.tensor([700.0, 150.0])
    out = unet(x, t, context=context, y=y)
    plain = unet(x, t, context=context, y=torch.zeros(2, ADM))
    print("y vs zero y: max diff", float((out - plain).abs().max()), "keys", sorted(label))
    tensors = {"model.diffusion_model." + k: v.half() for k, v in label.items()}
    tensors.update({"x": x, "context": context, "y": y, "timesteps": t, "out": out})
    save_file({k: v.contiguous() for k, v in tensors.items()}, OUT, metadata={"comfyui_version": "0.3.64"})
    print("wrote", OUT)


if __name__ == "__main__":
    main()
