#!/usr/bin/env python3
"""Fixtures for the server's upload and /view tests, made with Pillow (what ComfyUI's server.py
uses), so the Swift results are compared with ComfyUI's own image operations:

- original.png: 7x5 RGB with a `prompt` text chunk; mask.png: 7x5 RGBA whose alpha is a ramp.
- mask_composite.png: ComfyUI's `upload_mask` image_save_function: original.convert('RGBA'),
  putalpha(mask.getchannel('A')), saved with the original's text chunks (compress_level=4).
- rgba.png: 7x5 RGBA; view_rgb.png: `channel=rgb` (Image.merge of r, g, b); view_a.png:
  `channel=a` (Image.new('RGBA', size) with putalpha(a)).

Run by hand: /work/venv-torch/bin/python scripts/make_server_upload_fixtures.py
"""
from pathlib import Path

from PIL import Image
from PIL.PngImagePlugin import PngInfo

out = Path(__file__).resolve().parent.parent / "Tests/LatentflowServerTests/Fixtures"
out.mkdir(parents=True, exist_ok=True)
width, height = 7, 5

original = Image.new("RGB", (width, height))
original.putdata([((x * 37) % 256, (y * 51) % 256, (x * y * 13) % 256) for y in range(height) for x in range(width)])
info = PngInfo()
info.add_text("prompt", '{"1": {"class_type": "LoadImage"}}')
original.save(out / "original.png", pnginfo=info)

mask = Image.new("RGBA", (width, height))
mask.putdata([(0, 0, 0, (x * 40 + y * 9) % 256) for y in range(height) for x in range(width)])
mask.save(out / "mask.png")

# ComfyUI server.py, upload_mask -> image_save_function.
with Image.open(out / "original.png") as original_pil:
    metadata = PngInfo()
    for key in original_pil.text:
        metadata.add_text(key, original_pil.text[key])
    original_pil = original_pil.convert("RGBA")
    mask_pil = Image.open(out / "mask.png").convert("RGBA")
    original_pil.putalpha(mask_pil.getchannel("A"))
    original_pil.save(out / "mask_composite.png", compress_level=4, pnginfo=metadata)

rgba = Image.new("RGBA", (width, height))
rgba.putdata([((x * 30) % 256, (y * 60) % 256, 200, (x * 36 + y * 20) % 256) for y in range(height) for x in range(width)])
rgba.save(out / "rgba.png")

# ComfyUI server.py, view_image: channel=rgb and channel=a.
with Image.open(out / "rgba.png") as img:
    r, g, b, a = img.split()
    Image.merge("RGB", (r, g, b)).save(out / "view_rgb.png")
    alpha_img = Image.new("RGBA", img.size)
    alpha_img.putalpha(a)
    alpha_img.save(out / "view_a.png")
print("wrote", sorted(p.name for p in out.glob("*.png")))
