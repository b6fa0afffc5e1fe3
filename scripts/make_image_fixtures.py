"""Small images written by Pillow (the library ComfyUI saves with), for the image I/O tests.

Run by hand (never by CI):  pip install pillow numpy && python3 scripts/make_image_fixtures.py
For each image NAME.png/.jpg, NAME.expected.json holds the decoded RGB(A) samples Pillow reads
(after converting palette and grayscale to RGB/RGBA), and the text chunks.
"""
import json
import os
import struct
import zlib

import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

out = os.path.join(os.path.dirname(__file__), "..", "Tests", "LatentflowIOTests", "Fixtures")
rng = np.random.default_rng(7)


def record(name, samples, bit_depth, texts=None):
    with open(os.path.join(out, f"{name}.expected.json"), "w") as f:
        json.dump({"height": samples.shape[0], "width": samples.shape[1], "channels": samples.shape[2],
                   "bit_depth": bit_depth, "samples": samples.reshape(-1).tolist(), "texts": texts or {}}, f)


# 8-bit RGB with ComfyUI-style metadata (SaveImage: PngInfo.add_text("prompt"/"workflow", json)).
rgb = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
info = PngInfo()
texts = {"prompt": json.dumps({"1": {"class_type": "SaveImage", "inputs": {"filename_prefix": "é ✓"}}}),
         "workflow": json.dumps({"nodes": [], "links": [], "version": 0.4})}
for key, value in texts.items():
    info.add_text(key, value)
Image.fromarray(rgb).save(os.path.join(out, "comfy_rgb8.png"), pnginfo=info, compress_level=4)
record("comfy_rgb8", rgb, 8, texts)

# 8-bit RGBA.
rgba = rng.integers(0, 256, (4, 3, 4), dtype=np.uint8)
Image.fromarray(rgba, "RGBA").save(os.path.join(out, "rgba8.png"))
record("rgba8", rgba, 8)

# 16-bit grayscale (Pillow's I;16), read back as 16-bit RGB.
gray16 = rng.integers(0, 65536, (3, 4), dtype=np.uint16)
Image.fromarray(gray16).save(os.path.join(out, "gray16.png"))
record("gray16", np.repeat(gray16[:, :, None], 3, axis=2), 16)


def write_png_rgb16(path, samples):
    """Pillow cannot write 16-bit RGB, so this one is assembled by hand (big-endian samples)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    h, w, _ = samples.shape
    raw = b"".join(b"\x00" + samples[y].astype(">u2").tobytes() for y in range(h))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


rgb16 = rng.integers(0, 65536, (3, 5, 3), dtype=np.uint16)
write_png_rgb16(os.path.join(out, "rgb16.png"), rgb16)
record("rgb16", rgb16, 16)

# Palette image with a transparent entry (tRNS), read back as RGBA.
palette = Image.fromarray(rng.integers(0, 4, (6, 5), dtype=np.uint8), "P")
palette.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30])
palette.info["transparency"] = 2
palette.save(os.path.join(out, "palette.png"), transparency=2)
record("palette", np.asarray(Image.open(os.path.join(out, "palette.png")).convert("RGBA")), 8)

# JPEG (quality 90); decoders may differ by rounding, the test allows one level.
jpeg_src = np.clip(np.add.outer(np.arange(16) * 12, np.arange(16) * 4)[:, :, None] + np.array([0, 40, 80]), 0, 255).astype(np.uint8)
Image.fromarray(jpeg_src).save(os.path.join(out, "gradient.jpg"), quality=90)
record("gradient", np.asarray(Image.open(os.path.join(out, "gradient.jpg")).convert("RGB")), 8)
print("wrote fixtures to", os.path.normpath(out))
