#!/usr/bin/env python3
"""Writes Tests/LatentflowNodesTests/Fixtures/image_color_to_mask.safetensors: ComfyUI v0.3.64's own
ImageColorToMask (`comfy_extras/nodes_mask.py`, run from a checkout) on an image whose pixels sit
on, near and halfway between 8-bit levels of the colours asked for.

Run by hand, never by CI:
  /work/venv-torch/bin/python scripts/make_image_color_mask_fixtures.py /path/to/ComfyUI [extra sys.path ...]
"""

import json
import os
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from comfyui_boot import boot  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "LatentflowNodesTests", "Fixtures",
                   "image_color_to_mask.safetensors")


def main():
    sys.path += sys.argv[2:]
    boot(sys.argv[1])
    import comfy_extras.nodes_mask as masks

    torch.manual_seed(0)
    colors = [0x000000, 0xFF8000, 0x10E020, 0xFFFFFF]
    levels = torch.tensor([[0x00, 0x00, 0x00], [0xFF, 0x80, 0x00], [0x10, 0xE0, 0x20], [0xFF, 0xFF, 0xFF]],
                          dtype=torch.float32)
    # Each pixel: one of the colours, nudged by up to +-0.6 of a level (half levels included), some
    # out of range (clamped), some random.
    pick = torch.randint(0, 4, (2, 9, 11))
    image = levels[pick] / 255.0
    nudge = (torch.randint(-6, 7, image.shape).float() / 10.0) / 255.0
    image = torch.where(torch.rand(image.shape) < 0.5, image + nudge, image)
    image[0, 0, 0] = torch.tensor([-0.2, 1.3, 0.5])
    image[1, :2] = torch.rand(2, 11, 3)
    tensors, cases = {"image": image}, {}
    for color in colors:
        tensors[f"mask_{color:06x}"] = masks.ImageColorToMask().image_to_mask(image, color)[0]
        cases[f"mask_{color:06x}"] = color
    save_file(tensors, OUT, metadata={"cases": json.dumps(cases)})
    print("wrote", OUT, {k: float(v.sum()) for k, v in tensors.items() if k != "image"})


if __name__ == "__main__":
    main()
