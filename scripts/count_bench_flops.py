#!/usr/bin/env python3
"""FLOP counts for `latentflow bench`'s TAESD and SD-Turbo cases, by PyTorch's own FLOP counter.

Run by hand (never by CI): /work/venv-torch/bin/python scripts/count_bench_flops.py /work/comfy0364 /work/cextra
Every network is built on the meta device (no weights, no arithmetic), so this takes seconds:
  - TAESD: ComfyUI v0.3.64's own `comfy/taesd/taesd.py` Encoder and Decoder (the 64-wide
    released architecture), decoder on a 4-channel latent of side S/8, encoder on an RGB image of
    side S;
  - SD-Turbo's UNet: diffusers' `UNet2DConditionModel` with stabilityai/sd-turbo's unet config
    (SD2.1-base: 320/640/1280/1280 channels, 64-wide heads, 1024-wide context, linear projections),
    one forward at batch 1 on a 77-token context;
  - its text tower: transformers' `CLIPTextModel` with sd-turbo's text_encoder config (OpenCLIP
    ViT-H/14 cut to the 23 layers SD2 reads: width 1024, 16 heads, MLP 4096), 77 tokens.
`torch.utils.flop_counter.FlopCounterMode` counts 2 FLOPs per multiply-add of convolutions, matrix
products and attention, nothing for elementwise work, which is how the benchmark counts.
Writes Tests/LatentflowModelsTests/Fixtures/taesd/flops.json (the TAESD counts, which
TAESDTests checks Latentflow's own count against) and prints everything.
"""
import json
import os
import sys

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from comfyui_boot import boot  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Tests", "LatentflowModelsTests", "Fixtures", "taesd", "flops.json")


def flops(module, *inputs, **kwargs):
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        module(*inputs, **kwargs)
    return counter.get_total_flops()


def main():
    comfyui, extras = sys.argv[1], sys.argv[2]
    boot(comfyui)
    sys.path.append(extras)
    from comfy.taesd.taesd import Decoder, Encoder

    with torch.device("meta"):
        encoder, decoder = Encoder(), Decoder()
    record = {"source": "torch.utils.flop_counter.FlopCounterMode over ComfyUI v0.3.64 comfy/taesd/taesd.py",
              "decoder": {}, "encoder": {}}
    for side in (64, 256, 512):
        latent = torch.empty(1, 4, side // 8, side // 8, device="meta")
        image = torch.empty(1, 3, side, side, device="meta")
        record["decoder"][str(side)] = flops(decoder, latent)
        record["encoder"][str(side)] = flops(encoder, image)
    with open(OUT, "w") as f:
        json.dump(record, f, indent=1, sort_keys=True)
        f.write("\n")
    for part in ("decoder", "encoder"):
        for side, value in record[part].items():
            print(f"TAESD {part} {side} px: {value / 1e9:.3f} GFLOP")

    from diffusers import UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    with torch.device("meta"):
        unet = UNet2DConditionModel(
            sample_size=64, in_channels=4, out_channels=4, block_out_channels=(320, 640, 1280, 1280),
            layers_per_block=2, cross_attention_dim=1024, attention_head_dim=(5, 10, 20, 20),
            use_linear_projection=True, down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
            up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3)
        text = CLIPTextModel(CLIPTextConfig(
            hidden_size=1024, intermediate_size=4096, num_hidden_layers=23, num_attention_heads=16,
            hidden_act="gelu", projection_dim=1024, vocab_size=49408, max_position_embeddings=77))
    context = torch.empty(1, 77, 1024, device="meta")
    for latent_side in (32, 64):
        sample = torch.empty(1, 4, latent_side, latent_side, device="meta")
        value = flops(unet, sample, torch.tensor([999.0], device="meta"), encoder_hidden_states=context)
        print(f"SD-Turbo (SD2.1-base) UNet, {latent_side}x{latent_side} latent: {value / 1e9:.1f} GFLOP")
    tokens = torch.zeros(1, 77, dtype=torch.long, device="meta")
    print(f"OpenCLIP ViT-H/14 text tower, 23 layers, 77 tokens: {flops(text, tokens) / 1e9:.2f} GFLOP")


if __name__ == "__main__":
    main()
