"""The tiny SD2.1-architecture stand-in checkpoint the SD-Turbo workflow runs on.

Run by hand (never by CI) in a venv with torch, diffusers and safetensors:
    python3 scripts/make_tiny_sd21_checkpoint.py
Writes models/checkpoints/latentflow-tiny-sd21.safetensors (float16, seeded random weights):
  - model.diffusion_model.*: an SD2.x-style UNet in the LDM layout (diffusers' UNet2DConditionModel
    renamed with tiny_unet_keys.py): linear proj_in/proj_out, one 64-wide head (SD2's head width),
    attention on the second level and in the middle block, 4 input channels, eps (the last
    output transformer that ComfyUI's v-prediction test reads is absent), as SD-Turbo;
  - first_stage_model.*: the embedded tiny SD1.5 checkpoint's VAE (SD2 uses the same autoencoder);
  - cond_stage_model.model.*: an OpenCLIP-layout text tower (fused attn.in_proj, text_projection,
    logit_scale, the real 49408-token vocabulary) 32 wide with 2 layers.
"""
import os
import sys

import torch
from diffusers import UNet2DConditionModel
from safetensors import safe_open
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tiny_models import randomize  # noqa: E402
from tiny_unet_keys import diffusers_to_ldm  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SOURCE = os.path.join(ROOT, "models", "checkpoints", "latentflow-tiny-sd15.safetensors")
TARGET = os.path.join(ROOT, "models", "checkpoints", "latentflow-tiny-sd21.safetensors")
WIDTH, LAYERS, MLP = 32, 2, 64

torch.manual_seed(2101)
unet = randomize(UNet2DConditionModel(
    sample_size=8, in_channels=4, out_channels=4, block_out_channels=(32, 64), layers_per_block=1,
    down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
    cross_attention_dim=WIDTH, attention_head_dim=(1, 1), use_linear_projection=True, norm_num_groups=32), 0.15)
out = {"model.diffusion_model." + diffusers_to_ldm(k, attention=(False, True)): v.half().contiguous()
       for k, v in unet.state_dict().items()}

with safe_open(SOURCE, "pt") as f:
    for key in f.keys():
        if key.startswith("first_stage_model."):
            out[key] = f.get_tensor(key)

generator = torch.Generator().manual_seed(2102)


def randn(*shape, std):
    return (torch.randn(*shape, generator=generator) * std).half()


tower = {"token_embedding.weight": randn(49408, WIDTH, std=0.3), "positional_embedding": randn(77, WIDTH, std=0.1),
         "ln_final.weight": 1 + randn(WIDTH, std=0.1), "ln_final.bias": randn(WIDTH, std=0.02),
         "text_projection": randn(WIDTH, WIDTH, std=WIDTH ** -0.5), "logit_scale": torch.tensor(4.6052).half()}
for layer in range(LAYERS):
    p = f"transformer.resblocks.{layer}."
    for name, shape in {"attn.in_proj": (3 * WIDTH, WIDTH), "attn.out_proj": (WIDTH, WIDTH),
                        "mlp.c_fc": (MLP, WIDTH), "mlp.c_proj": (WIDTH, MLP)}.items():
        tower[p + name + ("_weight" if name == "attn.in_proj" else ".weight")] = randn(*shape, std=shape[1] ** -0.5)
        tower[p + name + ("_bias" if name == "attn.in_proj" else ".bias")] = randn(shape[0], std=0.02)
    for norm in ("ln_1", "ln_2"):
        tower[p + norm + ".weight"] = 1 + randn(WIDTH, std=0.1)
        tower[p + norm + ".bias"] = randn(WIDTH, std=0.02)
out.update({"cond_stage_model.model." + k: v.contiguous() for k, v in tower.items()})

save_file(out, TARGET, metadata={"format": "pt"})
print(f"wrote {os.path.normpath(TARGET)}: {len(out)} tensors, {os.path.getsize(TARGET)} bytes")
