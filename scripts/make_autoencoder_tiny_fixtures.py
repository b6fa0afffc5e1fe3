"""diffusers' AutoencoderTiny (TAESD in diffusers keys, as SDXS's vae/ and madebyollin/taesd's
diffusers files hold it) on tiny random weights, with diffusers' encode and decode outputs.

Run by hand (never by CI) in a venv with torch, diffusers, transformers and safetensors:
    python3 scripts/make_autoencoder_tiny_fixtures.py
Writes, under Tests/LatentflowModelsTests/Fixtures/:
  - tiny_autoencoder_tiny/config.json and diffusion_pytorch_model.safetensors: an AutoencoderTiny
    with TAESD's layout (encoder blocks 1, 3, 3, 3; decoder blocks 3, 3, 3, 1; 4 latent channels),
    8 channels wide where TAESD is 64, float16-rounded weights stored as float16: a `vae/` folder.
  - tiny_sdxs_09_text_encoder_config.json: the config.json of the SDXS-0.9-shaped text encoder
    scripts/make_sdxs_diffusers_fixtures.py writes (transformers CLIPTextConfig, GELU, 23 layers,
    width 64), so a test can assemble a whole SDXS pipeline folder.
  - tiny_autoencoder_tiny_reference.safetensors: `image` (1x3x24x40 in -1…1) and diffusers'
    `AutoencoderTiny.encode(image).latents` as `latents`; `latent` (1x4x3x5, model space) and
    `AutoencoderTiny.decode(latent).sample` as `decoded`.
"""
import json
import os
import sys

import torch
from diffusers import AutoencoderTiny
from safetensors.torch import save_file
from transformers import CLIPTextConfig

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tiny_models import MODEL_FIXTURES, randomize  # noqa: E402


def write(tensors, path):
    save_file(tensors, path)
    print(f"wrote {os.path.normpath(path)} ({os.path.getsize(path)} bytes)")


torch.manual_seed(22)
vae = randomize(AutoencoderTiny(encoder_block_out_channels=(8,) * 4, decoder_block_out_channels=(8,) * 4),
                0.13, round_to_float16=True)
folder = os.path.join(MODEL_FIXTURES, "tiny_autoencoder_tiny")
os.makedirs(folder, exist_ok=True)
write({k: v.half().contiguous() for k, v in vae.state_dict().items()},
      os.path.join(folder, "diffusion_pytorch_model.safetensors"))
with open(os.path.join(folder, "config.json"), "w") as f:
    json.dump({k: v for k, v in vae.config.items() if not k.startswith("_use")} | {"_class_name": "AutoencoderTiny"},
              f, indent=2, sort_keys=True)

text_config = CLIPTextConfig(vocab_size=1000, hidden_size=64, intermediate_size=128, num_attention_heads=1,
                             num_hidden_layers=23, max_position_embeddings=77, hidden_act="gelu")
with open(os.path.join(MODEL_FIXTURES, "tiny_sdxs_09_text_encoder_config.json"), "w") as f:
    json.dump(text_config.to_dict(), f, indent=2, sort_keys=True)

image = torch.rand(1, 3, 24, 40) * 2 - 1
latent = torch.randn(1, 4, 3, 5)
with torch.no_grad():
    latents = vae.encode(image).latents
    decoded = vae.decode(latent).sample
print(f"latents std {latents.std():.3f}, decoded std {decoded.std():.3f}")
write({"image": image, "latents": latents.contiguous(), "latent": latent, "decoded": decoded.contiguous()},
      os.path.join(MODEL_FIXTURES, "tiny_autoencoder_tiny_reference.safetensors"))
