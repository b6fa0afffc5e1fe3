#!/usr/bin/env python3
"""Writes Tests/LatentflowNodesTests/Fixtures/image_filters.safetensors: ComfyUI v0.3.64's own
ImageBlur, ImageSharpen, ImageQuantize (`comfy_extras/nodes_post_processing.py`, with Pillow),
Morphology, ImageRGBToYUV and ImageYUVToRGB (`comfy_extras/nodes_morphology.py`, with kornia), run
from a checkout on small seeded images.

Run by hand, never by CI:
  /work/venv-torch/bin/python scripts/make_image_filter_fixtures.py /path/to/ComfyUI [extra sys.path ...]

The cases use the layout of make_image_node_fixtures.py (JSON under `cases`: node, typed inputs
and parameters, expected outputs, `kind`): "exact" where the node picks or copies values (the
morphology max/min, Pillow's 8-bit palettes), "float" where float32 arithmetic may round
differently.
"""

import json
import os
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from comfyui_boot import boot  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "LatentflowNodesTests", "Fixtures",
                   "image_filters.safetensors")


def main():
    sys.path += sys.argv[2:]
    boot(sys.argv[1])
    import comfy_extras.nodes_morphology as morphology
    import comfy_extras.nodes_post_processing as post

    torch.manual_seed(0)
    torch.set_num_threads(1)
    tensors, cases = {}, {}

    names, kept = {}, []

    def key(t):
        # An input used by several cases is stored once (kept alive so that its id stays its own).
        if id(t) not in names:
            names[id(t)] = f"t{len(tensors)}"
            kept.append(t)
            tensors[names[id(t)]] = t.clone().contiguous()
        return names[id(t)]

    def typed(value):
        if isinstance(value, torch.Tensor):
            return ["IMAGE", key(value)]
        if isinstance(value, bool):
            return ["BOOLEAN", value]
        if isinstance(value, int):
            return ["INT", value]
        if isinstance(value, float):
            return ["FLOAT", value]
        return ["STRING", value]

    def case(name, node_class, kind, **params):
        outputs = node_class.execute(**params).result
        images = {k: v for k, v in params.items() if isinstance(v, torch.Tensor)}
        cases[name] = {"node": node_class.define_schema().node_id,
                       "inputs": {k: typed(v) for k, v in images.items()},
                       "params": {k: typed(v) for k, v in params.items() if k not in images},
                       "outputs": [typed(o) for o in outputs], "kind": kind}

    image = torch.rand(2, 6, 7, 3)
    rgba = torch.rand(1, 5, 8, 4)
    # A blocky image (few distinct values) so that erosion and dilation visibly move edges.
    blocks = (torch.rand(1, 3, 4, 3) * 4).floor().div(3).repeat_interleave(3, 1).repeat_interleave(2, 2)[:, :8, :7]

    case("blur_r1", post.Blur, "float", image=image, blur_radius=1, sigma=1.0)
    case("blur_r3_sigma0.3", post.Blur, "float", image=image, blur_radius=3, sigma=0.3)
    case("blur_r5_rgba", post.Blur, "float", image=rgba, blur_radius=4, sigma=2.5)
    case("sharpen_r1", post.Sharpen, "float", image=image, sharpen_radius=1, sigma=1.0, alpha=1.0)
    case("sharpen_r2", post.Sharpen, "float", image=image, sharpen_radius=2, sigma=0.7, alpha=0.35)
    case("sharpen_r4_rgba", post.Sharpen, "float", image=rgba, sharpen_radius=4, sigma=3.0, alpha=2.0)
    for operation in ["erode", "dilate", "open", "close", "gradient", "bottom_hat", "top_hat"]:
        case(f"morphology_{operation}_3", morphology.Morphology, "exact", image=image, operation=operation,
             kernel_size=3)
        case(f"morphology_{operation}_4_blocks", morphology.Morphology, "exact", image=blocks,
             operation=operation, kernel_size=4)
    case("morphology_dilate_11", morphology.Morphology, "exact", image=rgba, operation="dilate", kernel_size=11)
    case("morphology_erode_6", morphology.Morphology, "exact", image=rgba, operation="erode", kernel_size=6)
    wide = torch.rand(2, 4, 5, 3) * 1.4 - 0.2
    case("rgb_to_yuv", morphology.ImageRGBToYUV, "float", image=wide)
    y, u, v = morphology.ImageRGBToYUV.execute(image=image).result
    case("yuv_to_rgb_roundtrip", morphology.ImageYUVToRGB, "float", Y=y, U=u, V=v)
    case("yuv_to_rgb_channels", morphology.ImageYUVToRGB, "float", Y=torch.rand(2, 4, 5, 1),
         U=torch.rand(2, 4, 5, 3), V=torch.rand(2, 4, 5, 4))
    # Quantize works on 8-bit levels (`(x·255).to(uint8)` truncates), through Pillow's palettes.
    photo = torch.rand(1, 9, 11, 3) * 0.5 + torch.linspace(0, 0.5, 11).view(1, 1, 11, 1)
    for colors in [2, 5, 16, 256]:
        for dither in ["none", "floyd-steinberg", "bayer-2", "bayer-4", "bayer-8", "bayer-16"]:
            case(f"quantize_{colors}_{dither}", post.Quantize, "exact", image=photo, colors=colors, dither=dither)
    case("quantize_batch", post.Quantize, "exact", image=image, colors=3, dither="floyd-steinberg")
    # Few distinct colours with many equal pixel counts: the median cut's heap order and its
    # splits at runs of equal values decide the palette.
    levels = (torch.rand(1, 6, 5, 3) * 6).floor() / 5
    blocky = levels.repeat_interleave(4, 1).repeat_interleave(6, 2)
    blocky[0, ::3, ::5] = torch.rand(8, 6, 3)
    for colors, dither in [(7, "none"), (7, "floyd-steinberg"), (32, "bayer-4"), (3, "bayer-16")]:
        case(f"quantize_blocky_{colors}_{dither}", post.Quantize, "exact", image=blocky, colors=colors, dither=dither)

    save_file(tensors, OUT, metadata={"cases": json.dumps(cases), "comfyui_version": "0.3.64"})
    print("wrote", OUT, len(cases), "cases", os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
