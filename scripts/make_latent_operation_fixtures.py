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


def rebatch_latents(latents, batch_size):
    """nodes_rebatch.LatentRebatch.rebatch: regroup a list of latent dicts into batches of batch_size."""
    def as_group(latent, offset):
        samples = latent["samples"]
        n = samples.shape[0]
        mask = latent.get("noise_mask", torch.ones((n, 1, samples.shape[2] * 8, samples.shape[3] * 8)))
        if mask.shape[0] < n:
            mask = mask.repeat((n - 1) // mask.shape[0] + 1, 1, 1, 1)[:n]
        return [samples, mask, latent.get("batch_index", [offset + i for i in range(n)])]

    def rows(group, start, stop):
        return [part[start:stop] for part in group]

    out, current, processed = [], None, 0
    for latent in latents:
        nxt = as_group(latent, processed)
        processed += len(nxt[2])
        if current is None:
            current = nxt
        elif nxt[0].shape[-2:] != current[0].shape[-2:]:
            out.append(rows(current, 0, batch_size))
            current = nxt
        else:
            current = [torch.cat((a, b)) if torch.is_tensor(a) else a + b for a, b in zip(current, nxt)]
        if current[0].shape[0] > batch_size:
            num = current[0].shape[0] // batch_size
            out += [rows(current, i * batch_size, (i + 1) * batch_size) for i in range(num)]
            current = rows(current, num * batch_size, None) if num * batch_size < current[0].shape[0] else None
    if current is not None:
        out.append(rows(current, 0, batch_size))
    return [{"samples": s, "batch_index": i, **({} if m.mean() == 1.0 else {"noise_mask": m})} for s, m, i in out]


def add_rebatch_cases(tensors, cases):
    a = torch.randn(3, 4, 2, 3)
    b = torch.randn(2, 4, 2, 3)
    mask_b = (torch.rand(1, 1, 16, 24) > 0.5).float()
    c = torch.randn(2, 4, 3, 2)
    inputs = {"a": {"samples": a}, "b": {"samples": b, "noise_mask": mask_b, "batch_index": [7, 9]},
              "c": {"samples": c}}
    for name, tensor in [("rebatch_a", a), ("rebatch_b", b), ("rebatch_b_mask", mask_b), ("rebatch_c", c)]:
        tensors[name] = tensor
    for case, order, size in [("rebatch_2", ["a", "b"], 2), ("rebatch_sizes", ["a", "c", "b"], 2),
                              ("rebatch_4", ["a", "b", "c"], 4), ("rebatch_1", ["b", "a"], 1)]:
        batches = rebatch_latents([inputs[k] for k in order], size)
        expected = []
        for i, batch in enumerate(batches):
            tensors[f"{case}.{i}.samples"] = batch["samples"]
            if "noise_mask" in batch:
                tensors[f"{case}.{i}.mask"] = batch["noise_mask"]
            expected.append({"batch_index": batch["batch_index"], "mask": "noise_mask" in batch})
        cases[case] = {"order": order, "batch_size": size, "batches": expected}


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
    add_rebatch_cases(tensors, cases)
    floats = [0.1, 1.0, 100.0, 1e-05, 1.234e-05, 1e16, 1e15, 2.5e15, 1e22, -3.75, 123456789.0]
    metadata = {"cases": json.dumps(cases), "python_str": json.dumps([[f, str(f)] for f in floats])}
    save_file({k: v.clone().contiguous() for k, v in tensors.items()}, OUT, metadata=metadata)
    print("wrote", OUT, {k: list(v.shape) for k, v in tensors.items()})


if __name__ == "__main__":
    main()
