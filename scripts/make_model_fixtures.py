"""Tiny SD-architecture models with seeded random weights and their reference outputs.

Run by hand (never by CI):
    pip install torch diffusers transformers safetensors
    python3 scripts/make_model_fixtures.py --comfyui /path/to/ComfyUI
Writes Tests/LatentflowModelsTests/Fixtures/:
  - tiny_ldm.safetensors: a single-file checkpoint in the LDM layout (model.diffusion_model.,
    first_stage_model., cond_stage_model.transformer.text_model.), converted from the diffusers /
    transformers models with ComfyUI's own unet_to_diffusers table (UNet) and the VAE table below;
  - reference.safetensors: inputs and outputs of diffusers' UNet2DConditionModel and
    AutoencoderKL and transformers' CLIPTextModel on those weights;
  - tokens.json: ComfyUI's SD1Tokenizer.tokenize_with_weights on tricky prompts.
"""
import argparse
import importlib.machinery
import json
import os
import sys
import types

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from safetensors.torch import save_file
from transformers import CLIPTextConfig, CLIPTextModel

parser = argparse.ArgumentParser()
parser.add_argument("--comfyui", default=os.environ.get("COMFYUI_PATH"))
args = parser.parse_args()
if not args.comfyui:
    sys.exit("pass --comfyui /path/to/ComfyUI (for its key tables and tokenizer)")
out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "LatentflowModelsTests", "Fixtures")
sys.path.insert(0, args.comfyui)
for name in ["torchvision", "torchvision.transforms", "torchvision.transforms.functional"]:
    if name not in sys.modules:
        try:
            __import__(name)
        except Exception:
            module = types.ModuleType(name)
            module.__spec__ = importlib.machinery.ModuleSpec(name, None)
            sys.modules[name] = module
sys.argv = [sys.argv[0], "--cpu"]
import comfy.options  # noqa: E402
comfy.options.enable_args_parsing()
import comfy.sd1_clip  # noqa: E402
import comfy.utils  # noqa: E402

torch.manual_seed(1234)


def randomize(model, scale=0.2):
    """Random weights everywhere (diffusers zero-initialises some output layers)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name and name.endswith("weight"):
                p.copy_(1 + 0.1 * torch.randn_like(p))
            else:
                p.copy_(scale * torch.randn_like(p))
    return model.eval()


# --- UNet: 2 levels (attention on the first), 1 res block each, context width 32 ---------------
unet = randomize(UNet2DConditionModel(
    sample_size=8, in_channels=4, out_channels=4, block_out_channels=(32, 64), layers_per_block=1,
    down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
    cross_attention_dim=32, attention_head_dim=8, norm_num_groups=32), 0.15)
unet_config = {"num_res_blocks": [1, 1], "channel_mult": [1, 2], "transformer_depth": [1, 0],
               "transformer_depth_output": [1, 1, 0, 0], "transformer_depth_middle": 1}
to_ldm = comfy.utils.unet_to_diffusers(unet_config)  # diffusers key -> LDM key
checkpoint = {}
for key, value in unet.state_dict().items():
    checkpoint["model.diffusion_model." + to_ldm[key]] = value.clone()

x = torch.randn(2, 4, 8, 8)
t = torch.tensor([999.0, 259.0])
context = torch.randn(2, 5, 32)
with torch.no_grad():
    unet_out = unet(x, t, encoder_hidden_states=context).sample

# --- VAE: 2 levels of 32/64 channels ------------------------------------------------------------
vae = randomize(AutoencoderKL(in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 2,
                              up_block_types=("UpDecoderBlock2D",) * 2, block_out_channels=(32, 64),
                              layers_per_block=1, latent_channels=4, norm_num_groups=32), 0.1)


def vae_to_ldm(key, levels=2):
    """diffusers AutoencoderKL keys -> LDM keys (the layout single-file checkpoints use)."""
    k = key
    for old, new in [("conv_norm_out", "norm_out"), ("mid_block.resnets.0", "mid.block_1"), ("mid_block.resnets.1", "mid.block_2"),
                     ("mid_block.attentions.0.group_norm", "mid.attn_1.norm"), ("mid_block.attentions.0.to_q", "mid.attn_1.q"),
                     ("mid_block.attentions.0.to_k", "mid.attn_1.k"), ("mid_block.attentions.0.to_v", "mid.attn_1.v"),
                     ("mid_block.attentions.0.to_out.0", "mid.attn_1.proj_out"), ("conv_shortcut", "nin_shortcut")]:
        k = k.replace(old, new)
    parts = k.split(".")
    if parts[0] == "encoder" and parts[1] == "down_blocks":
        k = ".".join(["encoder", "down", parts[2]] + (["block"] + parts[4:] if parts[3] == "resnets" else ["downsample", "conv"] + parts[6:]))
    if parts[0] == "decoder" and parts[1] == "up_blocks":
        level = str(levels - 1 - int(parts[2]))
        k = ".".join(["decoder", "up", level] + (["block"] + parts[4:] if parts[3] == "resnets" else ["upsample", "conv"] + parts[6:]))
    return k


for key, value in vae.state_dict().items():
    ldm = vae_to_ldm(key)
    if ".attn_1." in ldm and value.ndim == 2:
        value = value[:, :, None, None]  # LDM keeps the attention projections as 1x1 convolutions
    checkpoint["first_stage_model." + ldm] = value.clone()

image = torch.rand(1, 3, 16, 16) * 2 - 1
latent = torch.randn(1, 4, 4, 4)
with torch.no_grad():
    vae_mean = vae.encode(image).latent_dist.mean
    vae_decoded = vae.decode(latent).sample

# --- CLIP text model: 3 layers of width 64 (one 64-wide head, as ViT-L), a 1000-token vocabulary ------------------------------
clip = randomize(CLIPTextModel(CLIPTextConfig(vocab_size=1000, hidden_size=64, intermediate_size=128, num_attention_heads=1,
                                              num_hidden_layers=3, max_position_embeddings=77, hidden_act="quick_gelu")), 0.3)
for key, value in clip.state_dict().items():
    if "position_ids" not in key:
        checkpoint["cond_stage_model.transformer.text_model." + key.removeprefix("text_model.")] = value.clone()
tokens = torch.tensor([[49406 % 1000, 5, 17, 999, 3] + [407] * 72, [406, 12, 7, 407] + [407] * 73])
with torch.no_grad():
    clip_out = clip(tokens, output_hidden_states=True)
    clip_last = clip_out.last_hidden_state
    clip_penultimate = clip.final_layer_norm(clip_out.hidden_states[-2])

save_file(checkpoint, os.path.join(out_dir, "tiny_ldm.safetensors"), metadata={"format": "pt"})
save_file({"unet.x": x, "unet.t": t, "unet.context": context, "unet.out": unet_out.contiguous(),
           "vae.image": image, "vae.mean": vae_mean.contiguous(), "vae.latent": latent, "vae.decoded": vae_decoded.contiguous(),
           "clip.tokens": tokens.to(torch.int64), "clip.last": clip_last.contiguous(), "clip.penultimate": clip_penultimate.contiguous()},
          os.path.join(out_dir, "reference.safetensors"))

# --- Tokenizer: ComfyUI's own tokenize_with_weights ---------------------------------------------
tokenizer = comfy.sd1_clip.SD1Tokenizer(embedding_directory=None)
prompts = ["a photo of a cat", "", "A (red:1.3) car, ((sunset)), \\(literal parens\\) and [brackets]",
           "café naïve 東京 emoji 🙂 don't it's 12345 3.14",
           "masterpiece, best quality, " * 12 + "(very long:0.8) prompt that crosses the chunk boundary",
           "(nested (weights:1.5) here:0.9) end", "multiple   spaces\tand\nnewlines", "UPPER Case MiXeD"]
token_cases = []
for prompt in prompts:
    chunks = tokenizer.tokenize_with_weights(prompt)["l"]
    token_cases.append({"prompt": prompt, "chunks": [[[int(t), float(w)] for t, w, *_ in chunk] for chunk in chunks]})
with open(os.path.join(out_dir, "tokens.json"), "w") as f:
    json.dump(token_cases, f, ensure_ascii=False)
print("wrote tiny_ldm.safetensors, reference.safetensors, tokens.json to", os.path.normpath(out_dir))
