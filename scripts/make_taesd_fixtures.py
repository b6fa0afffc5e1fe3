#!/usr/bin/env python3
"""Reference fixtures for TAESD (madebyollin's tiny autoencoder) and the step previews.

The networks are a transcription of ComfyUI v0.3.64 `comfy/taesd/taesd.py` (`conv`, `Clamp`,
`Block`, `Encoder`, `Decoder`, `TAESD.encode`/`decode` with `vae_scale`/`vae_shift`), with one
change: the conv width, 64 in the released files, is a parameter, so the random-weight stand-ins
stay small (width 8: ~40 KB per half in float16). The Swift model reads the width off the
weights, so the same code runs the released 64-wide files.

What is recorded, for `Tests/LatentflowModelsTests/Fixtures/taesd/`:
- `taesd_encoder.safetensors`, `taesd_decoder.safetensors` (float16, the Sequential's own keys as
  madebyollin ships them) and `taesd_encoder.pth` / `taesd_decoder.pth` (`torch.save` of the same
  state dicts, read through the restricted unpickler);
- `reference.safetensors`: an image and a latent, ComfyUI's VAE round trip through a TAESD VAE as
  `VAELoader.load_taesd` builds it (`vae_scale` 0.18215, `vae_shift` 0) and as `comfy/sd.py`
  `VAE.encode`/`decode` call it (`process_input` 2x-1, `process_output` clamp((x+1)/2, 0, 1));
  the previews of `latent_preview.py` for a model-space x0: `Latent2RGBPreviewer` with
  `comfy/latent_formats.py` `SD15.latent_rgb_factors` (no bias) and `TAESDPreviewerImpl` (a TAESD
  built with the decoder only, scale 1), both through `preview_to_image` (uint8 HWC, stored as
  float).

The stand-in files are also copied to `models/vae_approx/` (the tiny workflow's TAESD).

Run by hand: /work/venv-torch/bin/python scripts/make_taesd_fixtures.py
"""
import os
import shutil

import torch
import torch.nn as nn
from safetensors.torch import save_file

ROOT = os.path.join(os.path.dirname(__file__), "..")
OUT = os.path.join(ROOT, "Tests", "LatentflowModelsTests", "Fixtures", "taesd")
MODELS = os.path.join(ROOT, "models", "vae_approx")
WIDTH = 8


def conv(n_in, n_out, **kwargs):
    return nn.Conv2d(n_in, n_out, 3, padding=1, **kwargs)


class Clamp(nn.Module):
    def forward(self, x):
        return torch.tanh(x / 3) * 3


class Block(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.conv = nn.Sequential(conv(n_in, n_out), nn.ReLU(), conv(n_out, n_out), nn.ReLU(), conv(n_out, n_out))
        self.skip = nn.Conv2d(n_in, n_out, 1, bias=False) if n_in != n_out else nn.Identity()
        self.fuse = nn.ReLU()

    def forward(self, x):
        return self.fuse(self.conv(x) + self.skip(x))


def Encoder(latent_channels=4, w=WIDTH):
    return nn.Sequential(
        conv(3, w), Block(w, w),
        conv(w, w, stride=2, bias=False), Block(w, w), Block(w, w), Block(w, w),
        conv(w, w, stride=2, bias=False), Block(w, w), Block(w, w), Block(w, w),
        conv(w, w, stride=2, bias=False), Block(w, w), Block(w, w), Block(w, w),
        conv(w, latent_channels),
    )


def Decoder(latent_channels=4, w=WIDTH):
    return nn.Sequential(
        Clamp(), conv(latent_channels, w), nn.ReLU(),
        Block(w, w), Block(w, w), Block(w, w), nn.Upsample(scale_factor=2), conv(w, w, bias=False),
        Block(w, w), Block(w, w), Block(w, w), nn.Upsample(scale_factor=2), conv(w, w, bias=False),
        Block(w, w), Block(w, w), Block(w, w), nn.Upsample(scale_factor=2), conv(w, w, bias=False),
        Block(w, w), conv(w, 3),
    )


class TAESD(nn.Module):
    def __init__(self, vae_scale=1.0, vae_shift=0.0):
        super().__init__()
        self.taesd_encoder = Encoder()
        self.taesd_decoder = Decoder()
        self.vae_scale = torch.tensor(vae_scale)
        self.vae_shift = torch.tensor(vae_shift)

    def decode(self, x):
        return self.taesd_decoder((x - self.vae_shift) * self.vae_scale).sub(0.5).mul(2)

    def encode(self, x):
        return (self.taesd_encoder(x * 0.5 + 0.5) / self.vae_scale) + self.vae_shift


def randomize(model, seed):
    """Weights at 0.8/sqrt(fan-in), biases at 0.05: through the residual blocks the decoder's
    output then stays mostly inside 0..1, so the clamped image compares real values. float16-exact."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            scale = 0.8 / p[0].numel() ** 0.5 if p.dim() > 1 else 0.05
            p.copy_((torch.randn(p.shape, generator=g) * scale).half().float())
    return model


SD15_LATENT_RGB_FACTORS = [
    [0.3512, 0.2297, 0.3227],
    [0.3250, 0.4974, 0.2350],
    [-0.2829, 0.1762, 0.2721],
    [-0.2120, -0.2616, -0.7177],
]


def preview_to_image(preview):
    """latent_preview.py `preview_to_image`, as uint8 values (HWC)."""
    preview = preview.clone().clamp_(-1.0, 1.0).add_(1.0).mul_(127.5).round_()
    return preview.to(torch.uint8).float()


def main():
    os.makedirs(OUT, exist_ok=True)
    os.makedirs(MODELS, exist_ok=True)
    taesd = TAESD(vae_scale=0.18215, vae_shift=0.0)
    randomize(taesd.taesd_encoder, 1)
    randomize(taesd.taesd_decoder, 2)
    encoder_sd = {k: v.half().contiguous() for k, v in taesd.taesd_encoder.state_dict().items()}
    decoder_sd = {k: v.half().contiguous() for k, v in taesd.taesd_decoder.state_dict().items()}
    save_file(encoder_sd, os.path.join(OUT, "taesd_encoder.safetensors"))
    save_file(decoder_sd, os.path.join(OUT, "taesd_decoder.safetensors"))
    torch.save(encoder_sd, os.path.join(OUT, "taesd_encoder.pth"))
    torch.save(decoder_sd, os.path.join(OUT, "taesd_decoder.pth"))
    for name in ("taesd_encoder.safetensors", "taesd_decoder.safetensors"):
        shutil.copyfile(os.path.join(OUT, name), os.path.join(MODELS, name))

    g = torch.Generator().manual_seed(3)
    image = torch.rand(1, 3, 48, 64, generator=g)  # IMAGE values 0..1, channels first
    latent = torch.randn(1, 4, 6, 8, generator=g)  # unscaled VAE space, as LATENT carries it
    x0 = torch.randn(1, 4, 6, 8, generator=g) * 0.18215 * 4  # model space, as the sampler's denoised
    with torch.no_grad():
        encoded = taesd.encode(image * 2.0 - 1.0)  # VAE.encode: process_input then encode
        decoded = ((taesd.decode(latent) + 1.0) / 2.0).clamp(0.0, 1.0)  # VAE.decode, process_output
        factors = torch.tensor(SD15_LATENT_RGB_FACTORS).transpose(0, 1)
        latent2rgb = preview_to_image(torch.nn.functional.linear(x0[0].movedim(0, -1), factors))
        preview_taesd = TAESD(vae_scale=1.0)
        preview_taesd.taesd_decoder.load_state_dict({k: v.float() for k, v in decoder_sd.items()})
        taesd_preview = preview_to_image(preview_taesd.decode(x0[:1])[0].movedim(0, 2))
    save_file(
        {
            "image": image.contiguous(), "encoded": encoded.contiguous(),
            "latent": latent.contiguous(), "decoded": decoded.contiguous(),
            "x0": x0.contiguous(), "latent2rgb_preview": latent2rgb.contiguous(),
            "taesd_preview": taesd_preview.contiguous(),
        },
        os.path.join(OUT, "reference.safetensors"),
    )
    print("encoded std", encoded.std().item(), "decoded mean", decoded.mean().item())
    for name in sorted(os.listdir(OUT)):
        print(name, os.path.getsize(os.path.join(OUT, name)))


if __name__ == "__main__":
    main()
