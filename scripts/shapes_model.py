"""The embedded "shapes" model's architecture in PyTorch, its tokenizer, noise schedule, and its export to
the single-file LDM layout (what `train_shapes_model.py` shares; run by hand, never by CI).

The parts are SD1.5's, shrunk: diffusers' AutoencoderKL (8x downsampling, 4 latent channels), a CLIP text
transformer (quick-GELU, causal, 77 positions) over the real CLIP BPE vocabulary, and diffusers'
UNet2DConditionModel with SD1.5's block types (cross-attention in the upper levels, 8 heads, convolutional
proj_in/proj_out), epsilon prediction on SD1.5's scaled-linear betas.
"""
import json
import math
import os
import sys

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, SCRIPTS)
from tiny_unet_keys import diffusers_to_ldm, vae_to_ldm  # noqa: E402

ROOT = os.path.normpath(os.path.join(SCRIPTS, ".."))
MERGES = os.path.join(ROOT, "Sources", "LatentflowModels", "CLIP", "Resources", "merges.txt")

LATENT_SCALE = 0.18215  # SD1.x's factor, which ComfyUI and Latentflow apply to every SD1.x VAE
UNET_LEVELS = 3
UNET_ATTENTION = (True, True, False)
GUIDANCE_EMBEDDING_DIM = 256  # LCM_Dreamshaper_v7's time_cond_proj_dim


def make_vae():
    return AutoencoderKL(in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 4,
                         up_block_types=("UpDecoderBlock2D",) * 4, block_out_channels=(32, 64, 64, 64),
                         layers_per_block=1, latent_channels=4, norm_num_groups=32)


def make_text_encoder():
    return CLIPTextModel(CLIPTextConfig(vocab_size=49408, hidden_size=32, intermediate_size=128, num_attention_heads=1,
                                        num_hidden_layers=3, max_position_embeddings=77, hidden_act="quick_gelu",
                                        bos_token_id=49406, eos_token_id=49407, pad_token_id=49407))


def make_unet(guidance_embedding=False):
    """64 channels on every level, not fewer: SD's GroupNorm has 32 groups, and with one channel per group
    the norm before conv_out removes each channel's spatial mean, which on an 8x8 latent is most of what
    the noise at t = 999 and the background colour are (a 32-channel UNet's loss there stays above the
    trivial prediction eps = x, and its pictures ignore the prompt's colours)."""
    return UNet2DConditionModel(
        sample_size=8, in_channels=4, out_channels=4, layers_per_block=1, block_out_channels=(64, 64, 64),
        down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=32, attention_head_dim=8, norm_num_groups=32, use_linear_projection=False,
        time_cond_proj_dim=GUIDANCE_EMBEDDING_DIM if guidance_embedding else None)


def make_tokenizer(work_dir):
    """The CLIP BPE tokenizer over Latentflow's own merges resource; the vocabulary is derived from the
    merges as OpenAI's CLIP tokenizer derives it (bytes, bytes + </w>, merges, two special tokens)."""
    vocab_file = os.path.join(work_dir, "vocab.json")
    if not os.path.exists(vocab_file):
        bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
        cs, n = bs[:], 0
        for b in range(256):
            if b not in bs:
                bs.append(b)
                cs.append(256 + n)
                n += 1
        units = [chr(c) for c in cs]
        merges = open(MERGES, encoding="utf-8").read().split("\n")[1:]
        merges = [tuple(m.split()) for m in merges if m]
        vocab = units + [u + "</w>" for u in units] + ["".join(m) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
        json.dump({t: i for i, t in enumerate(vocab)}, open(vocab_file, "w"))
    return CLIPTokenizer(vocab_file, MERGES, pad_token="<|endoftext|>")


def tokenize(tokenizer, captions):
    """77 tokens per caption as ComfyUI's SD1 tokenizer makes them: start, words, end, padded with end."""
    rows = []
    for text in captions:
        ids = tokenizer(text, add_special_tokens=True)["input_ids"][:77]
        rows.append(ids + [49407] * (77 - len(ids)))
    return torch.tensor(rows, dtype=torch.long)


class NoiseSchedule:
    """SD1.5's DDPM schedule: scaled-linear betas 0.00085..0.012 over 1000 steps."""

    def __init__(self):
        betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2
        self.alphas_cumprod = torch.cumprod(1 - betas, 0).float()

    def add_noise(self, latents, noise, t):
        a = self.alphas_cumprod[t].view(-1, 1, 1, 1)
        return a.sqrt() * latents + (1 - a).sqrt() * noise


def guidance_scale_embedding(w, dim=GUIDANCE_EMBEDDING_DIM):
    """diffusers' LatentConsistencyModelPipeline.get_guidance_scale_embedding (sinusoids of 1000 w)."""
    w = w * 1000.0
    half = dim // 2
    freqs = torch.exp(torch.arange(half, dtype=torch.float32) * -(math.log(10000.0) / (half - 1)))
    angles = w[:, None].float() * freqs[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


def checkpoint_tensors(vae, text_encoder, unet):
    """The three models under a single-file SD1.5 checkpoint's LDM keys, as float16."""
    out = {}
    for key, value in unet.state_dict().items():
        out["model.diffusion_model." + diffusers_to_ldm(key, levels=UNET_LEVELS, attention=UNET_ATTENTION)] = value
    for key, value in vae.state_dict().items():
        ldm = vae_to_ldm(key, levels=4)
        if ".attn_1." in ldm and value.ndim == 2:
            value = value[:, :, None, None]  # LDM keeps the attention projections as 1x1 convolutions
        out["first_stage_model." + ldm] = value
    for key, value in text_encoder.state_dict().items():
        if "position_ids" not in key:
            out["cond_stage_model.transformer.text_model." + key.removeprefix("text_model.")] = value
    return {k: v.detach().to(torch.float16).contiguous() for k, v in out.items()}
