#!/usr/bin/env python3
"""Writes Tests/LatentflowNodesTests/Fixtures/animated_images.safetensors: the files ComfyUI v0.3.64's
own SaveAnimatedPNG and SaveAnimatedWEBP (`comfy_extras/nodes_images.py`, run from a checkout,
writing with Pillow) produce, as Pillow decodes them: frame count, per-frame durations and the
8-bit pixels of every frame.

Run by hand, never by CI:
  /work/venv-torch/bin/python scripts/make_animated_image_fixtures.py /path/to/ComfyUI [extra sys.path ...]

Frames 1 and 2 of the input are identical, so Pillow's writers merge them (one frame, two
durations). The lossy WEBP case records only the frame count and durations.
"""

import json
import os
import sys
import tempfile

import numpy as np
import torch
from PIL import Image, ImageSequence
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from comfyui_boot import boot  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "LatentflowNodesTests", "Fixtures",
                   "animated_images.safetensors")


def decoded(path):
    with Image.open(path) as im:
        frames = [(np.array(f.convert("RGB")), f.info.get("duration", 0)) for f in ImageSequence.Iterator(im)]
    return frames


def main():
    sys.path += sys.argv[2:]
    boot(sys.argv[1])
    import folder_paths
    import utils.install_util  # noqa: F401  (ComfyUI's utils package, before comfy/utils.py can shadow it)
    output = tempfile.mkdtemp()
    folder_paths.set_output_directory(output)
    import comfy_extras.nodes_images as images_nodes

    torch.manual_seed(0)
    images = torch.rand(4, 5, 7, 3) * 1.2 - 0.1  # out of range too: clipped, then truncated
    images[2] = images[1]
    tensors, cases = {"images": images}, {}
    runs = [("png_6fps", images_nodes.SaveAnimatedPNG(), dict(fps=6.0, compress_level=4)),
            ("png_7.3fps", images_nodes.SaveAnimatedPNG(), dict(fps=7.3, compress_level=9)),
            ("png_single", images_nodes.SaveAnimatedPNG(), dict(fps=2.0, compress_level=1)),
            ("webp_lossless", images_nodes.SaveAnimatedWEBP(), dict(fps=8.0, lossless=True, quality=80,
                                                                    method="default")),
            ("webp_lossy", images_nodes.SaveAnimatedWEBP(), dict(fps=5.0, lossless=False, quality=50,
                                                                 method="fastest"))]
    for name, node, params in runs:
        batch = images[:1] if name.endswith("single") else images
        ui = node.save_images(batch, filename_prefix=f"anim/{name}", prompt={"1": {"class_type": "x"}},
                              **params)["ui"]
        entry = ui["images"][0]
        frames = decoded(os.path.join(output, entry["subfolder"], entry["filename"]))
        cases[name] = {"params": params, "batch": batch.shape[0], "filename": entry["filename"],
                       "animated": ui["animated"][0], "durations": [d for _, d in frames]}
        if not name.endswith("lossy"):
            tensors[name] = torch.from_numpy(np.stack([f for f, _ in frames]))
    save_file(tensors, OUT, metadata={"cases": json.dumps(cases), "comfyui_version": "0.3.64"})
    print("wrote", OUT, json.dumps(cases), os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
