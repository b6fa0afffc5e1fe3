#!/usr/bin/env python3
"""Writes Tests/LatentflowNodesTests/Fixtures/latent_nodes.safetensors: ComfyUI's latent and
conditioning nodes (nodes.py and comfy_extras/nodes_latent.py, v0.3.6x) run on small seeded inputs.

Run by hand, never by CI:  /work/venv-torch/bin/python scripts/make_latent_node_fixtures.py

Importing ComfyUI's nodes.py pulls in its whole model stack, so this script does not import it:
each reference below performs, with torch on CPU and float32, the same torch operations in the
same order as the ComfyUI node method it is named after (read from ComfyUI's source), including
`comfy.utils.common_upscale` (center crop + F.interpolate) and `repeat_to_batch_size`.

Each case stores its result as `<case>.expected`; its parameters and the names of its input tensors
are in the `cases` metadata (JSON).
"""

import json
import os
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from comfy_utils_reference import common_upscale, repeat_to_batch_size  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "LatentflowNodesTests", "Fixtures", "latent_nodes.safetensors")


def reshape_latent_to(target_shape, latent):
    if latent.shape[1:] != target_shape[1:]:
        latent = common_upscale(latent, target_shape[3], target_shape[2], "bilinear", "center")
    return repeat_to_batch_size(latent, target_shape[0])


# --- node references ---------------------------------------------------------------------------
def latent_composite(to, src, x, y, feather):
    x, y, feather = x // 8, y // 8, feather // 8
    s = to.clone()
    if feather == 0:
        s[:, :, y:y + src.shape[2], x:x + src.shape[3]] = src[:, :, :to.shape[2] - y, :to.shape[3] - x]
        return s
    src = src[:, :, :to.shape[2] - y, :to.shape[3] - x]
    mask = torch.ones_like(src)
    for t in range(feather):
        f = (1.0 / feather) * (t + 1)
        if y != 0:
            mask[:, :, t:1 + t, :] *= f
        if y + src.shape[2] < to.shape[2]:
            mask[:, :, mask.shape[2] - 1 - t:mask.shape[2] - t, :] *= f
        if x != 0:
            mask[:, :, :, t:1 + t] *= f
        if x + src.shape[3] < to.shape[3]:
            mask[:, :, :, mask.shape[3] - 1 - t:mask.shape[3] - t] *= f
    rev = torch.ones_like(mask) - mask
    region = s[:, :, y:y + src.shape[2], x:x + src.shape[3]]
    s[:, :, y:y + src.shape[2], x:x + src.shape[3]] = src[:, :, :to.shape[2] - y, :to.shape[3] - x] * mask + region * rev
    return s


def latent_blend(s1, s2, factor):
    if s1.shape != s2.shape:
        s2 = common_upscale(s2, s1.shape[3], s1.shape[2], "bicubic", "center")
    return s1 * factor + s2 * (1 - factor)


def latent_crop(s, width, height, x, y):
    x, y = x // 8, y // 8
    if x > s.shape[3] - 8:
        x = s.shape[3] - 8
    if y > s.shape[2] - 8:
        y = s.shape[2] - 8
    return s[:, :, y:height // 8 + y, x:width // 8 + x]


def latent_interpolate(s1, s2, ratio):
    s2 = reshape_latent_to(s1.shape, s2)
    m1 = torch.linalg.vector_norm(s1, dim=(1))
    m2 = torch.linalg.vector_norm(s2, dim=(1))
    s1 = torch.nan_to_num(s1 / m1)
    s2 = torch.nan_to_num(s2 / m2)
    t = s1 * ratio + s2 * (1.0 - ratio)
    mt = torch.linalg.vector_norm(t, dim=(1))
    st = torch.nan_to_num(t / mt)
    return st * (m1 * ratio + m2 * (1.0 - ratio))


def latent_batch(s1, s2):
    if s1.shape[1:] != s2.shape[1:]:
        s2 = common_upscale(s2, s1.shape[3], s1.shape[2], "bilinear", "center")
    return torch.cat((s1, s2), dim=0)


def conditioning_average(t1, cond_from, strength):
    t0 = cond_from[:, :t1.shape[1]]
    if t0.shape[1] < t1.shape[1]:
        t0 = torch.cat([t0] + [torch.zeros((1, (t1.shape[1] - t0.shape[1]), t1.shape[2]))], dim=1)
    return torch.mul(t1, strength) + torch.mul(t0, (1.0 - strength))


def main():
    g = torch.Generator().manual_seed(21)

    def randn(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float32)

    tensors, cases = {}, {}

    shared = {}  # each input tensor is stored once, as `input<k>`; cases name theirs by role

    def case(name, node, inputs, expected, **params):
        roles = {}
        for role, t in inputs.items():
            key = shared.setdefault(id(t), f"input{len(shared)}")
            tensors[key] = t.clone().contiguous()
            roles[role] = key
        tensors[f"{name}.expected"] = expected.clone().contiguous()
        cases[name] = {"node": node, "inputs": roles, **params}

    to, small = randn(2, 4, 8, 8), randn(2, 4, 4, 4)
    for i, (x, y, feather) in enumerate([(16, 8, 0), (16, 16, 16), (40, 40, 8), (0, 24, 24), (8, 0, 40)]):
        case(f"composite{i}", "LatentComposite", {"to": to, "from": small},
             latent_composite(to, small, x, y, feather), x=x, y=y, feather=feather)
    one = randn(1, 4, 6, 6)
    case("composite_broadcast", "LatentComposite", {"to": to, "from": one},
         latent_composite(to, one, 8, 8, 16), x=8, y=8, feather=16)

    a, b = randn(2, 4, 4, 4), randn(2, 4, 4, 4)
    case("blend", "LatentBlend", {"samples1": a, "samples2": b}, latent_blend(a, b, 0.3), blend_factor=0.3)
    for i, (w, h, x, y) in enumerate([(32, 40, 8, 16), (64, 64, 64, 0), (16, 24, 40, 48)]):
        case(f"crop{i}", "LatentCrop", {"samples": to}, latent_crop(to, w, h, x, y), width=w, height=h, x=x, y=y)
    case("flip_x", "LatentFlip", {"samples": a}, torch.flip(a, dims=[2]), flip_method="x-axis: vertically")
    case("flip_y", "LatentFlip", {"samples": a}, torch.flip(a, dims=[3]), flip_method="y-axis: horizontally")
    rect = randn(2, 4, 3, 5)
    for k, rotation in [(0, "none"), (1, "90 degrees"), (2, "180 degrees"), (3, "270 degrees")]:
        case(f"rotate{k}", "LatentRotate", {"samples": rect}, torch.rot90(rect, k=k, dims=[3, 2]), rotation=rotation)

    b1 = randn(1, 4, 4, 4)
    case("add", "LatentAdd", {"samples1": a, "samples2": b}, a + reshape_latent_to(a.shape, b))
    case("add_repeat", "LatentAdd", {"samples1": a, "samples2": b1}, a + reshape_latent_to(a.shape, b1))
    case("add_resize", "LatentAdd", {"samples1": to, "samples2": b1}, to + reshape_latent_to(to.shape, b1))
    case("subtract", "LatentSubtract", {"samples1": a, "samples2": b}, a - reshape_latent_to(a.shape, b))
    case("multiply", "LatentMultiply", {"samples": a}, a * 0.37, multiplier=0.37)

    i1, i2 = randn(1, 4, 4, 4), randn(1, 4, 4, 4)
    i1[:, :, 0, 0] = 0  # a zero vector: 0/0 → nan_to_num → 0
    case("interpolate", "LatentInterpolate", {"samples1": i1, "samples2": i2},
         latent_interpolate(i1, i2, 0.3), ratio=0.3)
    q1, q2 = randn(4, 4, 4, 4), randn(4, 4, 4, 4)  # batch == channels: ComfyUI's norms broadcast by channel
    case("interpolate_b4", "LatentInterpolate", {"samples1": q1, "samples2": q2},
         latent_interpolate(q1, q2, 0.65), ratio=0.65)
    case("batch", "LatentBatch", {"samples1": a, "samples2": b1}, latent_batch(a, b1))
    case("batch_resize", "LatentBatch", {"samples1": a, "samples2": one}, latent_batch(a, one))

    # LatentUpscale's centre crop: Python's round (half to even) picks the offset; an 11-wide latent
    # cut to a square crops round(1.5) = 2 columns from each side, 13 wide round(2.5) = 2.
    wides = [randn(1, 4, h, w) for w, h in [(11, 8), (13, 8), (8, 11)]]  # kept alive: `shared` keys by id()
    for i, wide in enumerate(wides):
        case(f"upscale_crop{i}", "LatentUpscale", {"samples": wide},
             common_upscale(wide, 8, 8, "bilinear", "center"),
             upscale_method="bilinear", width=64, height=64, crop="center")

    c1, c2, c3 = randn(1, 7, 8), randn(1, 5, 8), randn(1, 9, 8)
    case("concat", "ConditioningConcat", {"to": c1, "from": c2}, torch.cat((c1, c2), 1))
    case("average_pad", "ConditioningAverage", {"to": c1, "from": c2},
         conditioning_average(c1, c2, 0.3), conditioning_to_strength=0.3)
    case("average_cut", "ConditioningAverage", {"to": c1, "from": c3},
         conditioning_average(c1, c3, 0.75), conditioning_to_strength=0.75)
    case("zero_out", "ConditioningZeroOut", {"conditioning": c1}, torch.zeros_like(c1))

    save_file(tensors, OUT, metadata={"cases": json.dumps(cases, sort_keys=True),
                                      "torch": torch.__version__})
    print(f"{len(cases)} cases, {os.path.getsize(OUT)} bytes → {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
