"""A full-size SD2.1-768-layout checkpoint with random weights, for the ComfyUI parity test.

Run by hand (never by CI), after `latentflow make-tiny-model --full-size` wrote the random SD1.5
checkpoint it starts from:
    python3 scripts/make_random_sd21_checkpoint.py --models /tmp/parity/models
Writes models/checkpoints/latentflow-random-sd21.safetensors (float16, about 2.6 GB):
  - model.diffusion_model.*: the SD1.5 UNet's tensors in SD2's shapes: linear proj_in/proj_out
    (the 1x1 convolutions squeezed), cross-attention keys and values over a 1024-wide context
    (new random weights); the last output transformer's norm1.bias gets a spread (std 0.12) so
    that ComfyUI's test (`SD20.model_type`, std > 0.09) reads the model as v-prediction, as it
    reads the real SD2.1-768;
  - first_stage_model.*: the SD1.5 VAE, unchanged (SD2 uses the same autoencoder);
  - cond_stage_model.model.*: an OpenCLIP ViT-H/14 text tower in OpenCLIP's own layout (24
    layers, width 1024, fused attn.in_proj, text_projection, logit_scale), random weights with
    the SD1.5 file's scales (weights 1/sqrt(fan_in), biases 0.02, norms 1 ± 0.1).
"""
import argparse
import os

import torch
from safetensors import safe_open
from safetensors.torch import save_file

parser = argparse.ArgumentParser()
parser.add_argument("--models", required=True)
args = parser.parse_args()
source = os.path.join(args.models, "checkpoints", "latentflow-random-sd15.safetensors")
target = os.path.join(args.models, "checkpoints", "latentflow-random-sd21.safetensors")
generator = torch.Generator().manual_seed(21)


def randn(*shape, std):
    return (torch.randn(*shape, generator=generator) * std).half()


out = {}
with safe_open(source, "pt") as f:
    for key in f.keys():
        if key.startswith("cond_stage_model."):
            continue
        tensor = f.get_tensor(key)
        if key.startswith("model.diffusion_model."):
            if key.endswith(("proj_in.weight", "proj_out.weight")) and tensor.ndim == 4:
                tensor = tensor[:, :, 0, 0].contiguous()
            elif ".attn2.to_k." in key or ".attn2.to_v." in key:
                tensor = randn(tensor.shape[0], 1024, std=1 / 32)
            elif key.endswith("output_blocks.11.1.transformer_blocks.0.norm1.bias"):
                tensor = randn(*tensor.shape, std=0.12)
        out[key] = tensor

width, layers, mlp = 1024, 24, 4096
text = {"token_embedding.weight": randn(49408, width, std=1 / 32), "positional_embedding": randn(77, width, std=1 / 32),
        "ln_final.weight": (1 + 0.1 * torch.randn(width, generator=generator)).half(), "ln_final.bias": randn(width, std=0.02),
        "text_projection": randn(width, width, std=1 / 32), "logit_scale": torch.tensor(4.6052).half()}
for i in range(layers):
    block = f"transformer.resblocks.{i}."
    for norm in ["ln_1", "ln_2"]:
        text[block + norm + ".weight"] = (1 + 0.1 * torch.randn(width, generator=generator)).half()
        text[block + norm + ".bias"] = randn(width, std=0.02)
    text[block + "attn.in_proj_weight"] = randn(3 * width, width, std=width ** -0.5)
    text[block + "attn.in_proj_bias"] = randn(3 * width, std=0.02)
    text[block + "attn.out_proj.weight"] = randn(width, width, std=width ** -0.5)
    text[block + "attn.out_proj.bias"] = randn(width, std=0.02)
    text[block + "mlp.c_fc.weight"] = randn(mlp, width, std=width ** -0.5)
    text[block + "mlp.c_fc.bias"] = randn(mlp, std=0.02)
    text[block + "mlp.c_proj.weight"] = randn(width, mlp, std=mlp ** -0.5)
    text[block + "mlp.c_proj.bias"] = randn(width, std=0.02)
out.update({"cond_stage_model.model." + k: v for k, v in text.items()})
save_file(out, target, metadata={"format": "pt"})
print("wrote", target)
