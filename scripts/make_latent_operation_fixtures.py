#!/usr/bin/env python3
"""Writes Tests/LatentflowNodesTests/Fixtures/latent_operations.safetensors: ComfyUI's latent
operations (`comfy_extras/nodes_latent.py`: LatentOperationTonemapReinhard, LatentOperationSharpen,
with `nodes_post_processing.gaussian_kernel`) on small seeded latents, and Python's `str` of some
floats (what PreviewAny shows).

Run by hand, never by CI:  /work/venv-torch/bin/python scripts/make_latent_operation_fixtures.py

The two functions below perform the same torch operations in the same order as ComfyUI's
(read from its source); importing ComfyUI itself would pull in its whole model stack.
"""

import json
import os

import torch
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "LatentflowNodesTests", "Fixtures",
                   "latent_operations.safetensors")


def gaussian_kernel(kernel_size, sigma):
    x, y = torch.meshgrid(torch.linspace(-1, 1, kernel_size), torch.linspace(-1, 1, kernel_size), indexing="ij")
    d = torch.sqrt(x * x + y * y)
    g = torch.exp(-(d * d) / (2.0 * sigma * sigma))
    return g / g.sum()


def tonemap_reinhard(latent, multiplier):
    latent_vector_magnitude = (torch.linalg.vector_norm(latent, dim=(1)) + 0.0000000001)[:, None]
    normalized_latent = latent / latent_vector_magnitude
    mean = torch.mean(latent_vector_magnitude, dim=(1, 2, 3), keepdim=True)
    std = torch.std(latent_vector_magnitude, dim=(1, 2, 3), keepdim=True)
    top = (std * 5 + mean) * multiplier
    latent_vector_magnitude *= (1.0 / top)
    new_magnitude = latent_vector_magnitude / (latent_vector_magnitude + 1.0)
    new_magnitude *= top
    return normalized_latent * new_magnitude


def sharpen(latent, sharpen_radius, sigma, alpha):
    luminance = (torch.linalg.vector_norm(latent, dim=(1)) + 1e-6)[:, None]
    normalized_latent = latent / luminance
    channels = latent.shape[1]
    kernel_size = sharpen_radius * 2 + 1
    kernel = gaussian_kernel(kernel_size, sigma)
    center = kernel_size // 2
    kernel *= alpha * -10
    kernel[center, center] = kernel[center, center] - kernel.sum() + 1.0
    padded = torch.nn.functional.pad(normalized_latent, (sharpen_radius,) * 4, 'reflect')
    sharpened = torch.nn.functional.conv2d(padded, kernel.repeat(channels, 1, 1).unsqueeze(1),
                                           padding=kernel_size // 2, groups=channels)
    sharpened = sharpened[:, :, sharpen_radius:-sharpen_radius, sharpen_radius:-sharpen_radius]
    return luminance * sharpened


def main():
    torch.manual_seed(0)
    tensors, cases = {}, {}
    latent = torch.randn(2, 4, 7, 9)
    tensors["latent"] = latent
    for name, multiplier in [("tonemap_default", 1.0), ("tonemap_half", 0.5), ("tonemap_strong", 3.0)]:
        tensors[name] = tonemap_reinhard(latent.clone(), multiplier)
        cases[name] = {"node": "LatentOperationTonemapReinhard", "multiplier": multiplier}
    for name, radius, sigma, alpha in [("sharpen_small", 1, 1.0, 0.1), ("sharpen_wide", 5, 2.5, 0.7),
                                       ("sharpen_sigma", 3, 0.3, 1.5)]:
        tensors[name] = sharpen(latent.clone(), radius, sigma, alpha)
        cases[name] = {"node": "LatentOperationSharpen", "sharpen_radius": radius, "sigma": sigma, "alpha": alpha}
    for size, sigma in [(3, 1.0), (8, 0.7), (19, 1.0)]:
        tensors[f"kernel_{size}"] = gaussian_kernel(size, sigma)
        cases[f"kernel_{size}"] = {"size": size, "sigma": sigma}
    floats = [0.1, 1.0, 100.0, 1e-05, 1.234e-05, 1e16, 1e15, 2.5e15, 1e22, -3.75, 123456789.0]
    metadata = {"cases": json.dumps(cases), "python_str": json.dumps([[f, str(f)] for f in floats])}
    save_file({k: v.contiguous() for k, v in tensors.items()}, OUT, metadata=metadata)
    print("wrote", OUT, {k: list(v.shape) for k, v in tensors.items()})


if __name__ == "__main__":
    main()
