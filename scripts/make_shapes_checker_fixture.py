"""Writes Tests/LatentflowEndToEndTests/Fixtures/shapes_checker.{safetensors,json}: images of the shapes
data set (clean, noisy, blurred) and what shapes_dataset.py's checker reads in each, the reference
for its Swift port (run by hand, never by CI).

    /work/venv-torch/bin/python scripts/make_shapes_checker_fixture.py
"""
import json
import os
import sys

import numpy as np
import torch
from PIL import Image, ImageFilter
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shapes_dataset as shapes  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "LatentflowEndToEndTests", "Fixtures")

rng = np.random.default_rng(7)
combos = list(shapes.all_combinations())
picks = [combos[k] for k in rng.choice(len(combos), size=16, replace=False)]
images, readings = [], []
for k, a in enumerate(picks):
    image = shapes.render(a, rng)
    if k % 3 == 1:  # noise: the mask threshold and the medians must agree, not just the clean case
        image = np.clip(image + rng.normal(0, 25, image.shape), 0, 255).astype(np.uint8)
    if k % 3 == 2:  # blur: soft edges move the region's boundary
        image = np.asarray(Image.fromarray(image).filter(ImageFilter.GaussianBlur(1.5)))
    images.append(image)
    readings.append(dict(caption=shapes.caption(a), **shapes.check(image)))
save_file({"images": torch.from_numpy(np.stack(images))}, os.path.join(OUT, "shapes_checker.safetensors"))
json.dump(readings, open(os.path.join(OUT, "shapes_checker.json"), "w"), indent=1)
print("wrote", len(images), "images;", sum(r["shape"] is not None for r in readings), "with a shape read")
