#!/usr/bin/env python3
"""Reference fixtures for the upscale models (ESRGAN / RRDBNet and Real-ESRGAN Compact), recorded
from ComfyUI v0.3.64's own code (run by hand, never by CI):

    /work/venv-torch/bin/python scripts/make_upscale_fixtures.py /tmp/comfy0364 /tmp/cextra
    (needs spandrel 0.4.x, ComfyUI's upscale-model dependency)

Builds small random-weight models in each key layout spandrel reads, saves them as ComfyUI finds
them in `models/upscale_models` (`.pth` pickles, also wrapped in `params_ema` as Real-ESRGAN
ships them, and `.safetensors`), and loads each back through ComfyUI's UpscaleModelLoader
(comfy_extras/nodes_upscale_model.py: comfy.utils.load_torch_file, then spandrel's ModelLoader).
Records, in Tests/LatentflowModelsTests/Fixtures/upscale/upscale_reference.safetensors, the
network's output and the descriptor's call on a seeded image, and comfy.utils.tiled_scale with a
small tile (16, overlap 4) so the tile placement and the feathered blending are covered; and in
Tests/LatentflowNodesTests/Fixtures/upscale_node.safetensors the whole ImageUpscaleWithModel node
(512 tiles overlapping by 32, clamped) on a 3x520 image, so two tiles blend across the width, for
the ESRGAN x4 and the Compact x4 (stored as float16 to stay small; a float16 rounding is below
2.5e-4 of the 0...1 range).
"""
import os
import sys

import torch
from safetensors.torch import save_file

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(SCRIPTS, "..", "Tests", "LatentflowModelsTests", "Fixtures", "upscale")
NODE_FIXTURE = os.path.join(SCRIPTS, "..", "Tests", "LatentflowNodesTests", "Fixtures", "upscale_node.safetensors")


def randomize(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * (0.7 / max(1, p[0].numel()) ** 0.5))
        for name, p in model.named_parameters():
            if name.endswith("body.1.weight") or "prelu" in name:
                p.copy_(torch.rand(p.shape, generator=g) * 0.5)
    return model


def half(sd):
    """float16 weights (as many released models are): spandrel widens them into its float32 model."""
    return {k: v.half() for k, v in sd.items()}


def new_layout(sd, style):
    """Old-arch RRDBNet keys renamed to Real-ESRGAN's (`body`) or BSRGAN's (`RRDB_trunk`) layout."""
    length = 1 + max(int(k.split(".")[1]) for k in sd)
    ups = (length - 5) // 3
    nb = max(int(k.split(".")[3]) for k in sd if k.startswith("model.1.sub."))
    out = {}
    for k, v in sd.items():
        p = k.split(".")
        i = int(p[1])
        if i == 0:
            out[f"conv_first.{p[-1]}"] = v
        elif i == 1 and int(p[3]) == nb:
            out[("conv_body" if style == "body" else "trunk_conv") + f".{p[-1]}"] = v
        elif i == 1:
            rdb = p[4].replace("RDB", "rdb" if style == "body" else "RDB")
            trunk = "body" if style == "body" else "RRDB_trunk"
            out[f"{trunk}.{p[3]}.{rdb}.{p[5]}.{p[-1]}"] = v
        elif i == 3 * ups + 2:
            out[("conv_hr" if style == "body" else "HRconv") + f".{p[-1]}"] = v
        elif i == 3 * ups + 4:
            out[f"conv_last.{p[-1]}"] = v
        else:
            out[("conv_up" if style == "body" else "upconv") + f"{i // 3}.{p[-1]}"] = v
    return out


def main():
    sys.path[:0] = sys.argv[2:]
    sys.path.insert(0, SCRIPTS)
    from comfyui_boot import boot
    boot(sys.argv[1])
    torch.set_num_threads(1)
    import comfy.utils
    import comfyui_version
    import folder_paths
    from comfy_extras import nodes_upscale_model
    from spandrel import ModelLoader
    from spandrel.architectures.Compact import Compact
    from spandrel.architectures.ESRGAN import ESRGAN

    os.makedirs(OUT, exist_ok=True)
    folder_paths.add_model_folder_path("upscale_models", os.path.abspath(OUT), is_default=True)
    metadata = {"comfyui_version": comfyui_version.__version__, "torch": torch.__version__}
    torch.manual_seed(0)
    refs = {}

    def record(name, path, image):
        (model,) = nodes_upscale_model.UpscaleModelLoader().load_model(os.path.basename(path))
        with torch.no_grad():
            refs[f"{name}.input"] = image.contiguous()
            # The network itself (unclamped, so every value is compared), and the descriptor's
            # call ComfyUI makes per tile: size-requirement padding, clamp to 0...1, crop.
            refs[f"{name}.output"] = model.model(image).contiguous()
            refs[f"{name}.descriptor"] = model(image).contiguous()
        print(name, model.architecture.id, "scale", model.scale, tuple(image.shape), "->",
              tuple(refs[f"{name}.output"].shape), os.path.basename(path))
        return model

    # ESRGAN x4, old layout (`model.N`), plain .pth.
    esrgan = randomize(ESRGAN(in_nc=3, out_nc=3, num_filters=8, num_blocks=1, scale=4), 1)
    sd = half(esrgan.state_dict())
    path = os.path.join(OUT, "esrgan_x4_old.pth")
    torch.save(sd, path)
    record("esrgan_x4_old", path, torch.rand(1, 3, 12, 10))

    # The same weights in BSRGAN's layout, as safetensors.
    path = os.path.join(OUT, "esrgan_x4_bsrgan.safetensors")
    save_file({k: v.contiguous() for k, v in new_layout(sd, "RRDB_trunk").items()}, path)
    from safetensors.torch import load_file
    bsrgan = ModelLoader().load_from_state_dict(load_file(path)).eval()
    with torch.no_grad():  # the test reads esrgan_x4_old's image and output for this file too
        assert torch.equal(bsrgan.model(refs["esrgan_x4_old.input"]), refs["esrgan_x4_old.output"])

    # Real-ESRGAN x2plus: new layout, pixel-unshuffle by 2 (12 input channels), wrapped in
    # params_ema; an odd-sized input exercises the reflect padding and the crop.
    x2 = randomize(ESRGAN(in_nc=12, out_nc=3, num_filters=8, num_blocks=1, scale=4, shuffle_factor=2), 2)
    path = os.path.join(OUT, "realesrgan_x2plus.pth")
    torch.save({"params_ema": new_layout(half(x2.state_dict()), "body")}, path)
    record("realesrgan_x2plus", path, torch.rand(1, 3, 11, 9))

    # Real-ESRGAN Compact x4 (realesr-general-x4v3's shape, smaller), safetensors.
    compact = randomize(Compact(num_in_ch=3, num_out_ch=3, num_feat=8, num_conv=3, upscale=4), 3)
    path = os.path.join(OUT, "compact_x4.safetensors")
    save_file({k: v.contiguous() for k, v in compact.state_dict().items()}, path)
    model = record("compact_x4", path, torch.rand(1, 3, 12, 10))

    # Tiled: a 2-image batch of 24x21 in tiles of 16 with overlap 4 (ComfyUI's blending).
    image = torch.rand(2, 3, 24, 21)
    with torch.no_grad():
        tiled = comfy.utils.tiled_scale(image, lambda a: model(a), tile_x=16, tile_y=16, overlap=4, upscale_amount=4,
                                        out_channels=3, output_device="cpu")
    refs["compact_tiled.input"] = image
    refs["compact_tiled.output"] = tiled.contiguous()

    save_file(refs, os.path.join(OUT, "upscale_reference.safetensors"), metadata=metadata)

    # The whole ImageUpscaleWithModel node: 3x520 images, so the width takes two 512 tiles.
    node = {"image": torch.rand(1, 3, 520, 3)}
    for name in ["esrgan_x4_old.pth", "compact_x4.safetensors"]:
        (loaded,) = nodes_upscale_model.UpscaleModelLoader().load_model(name)
        with torch.no_grad():
            (upscaled,) = nodes_upscale_model.ImageUpscaleWithModel().upscale(loaded, node["image"])
        node[name.split(".")[0]] = upscaled.half().contiguous()
    save_file(node, NODE_FIXTURE, metadata=metadata)

    # The stand-in ESRGAN x4 that ships in models/upscale_models for the ComfyUI templates and
    # workflows/esrgan-tiny.json: RRDBNet nf=8, nb=1 (gc=32, fixed by spandrel), float16 weights.
    tiny = randomize(ESRGAN(in_nc=3, out_nc=3, num_filters=8, num_blocks=1, scale=4), 4)
    path = os.path.join(os.path.dirname(__file__), "..", "models", "upscale_models", "latentflow-tiny-esrgan-x4.safetensors")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    save_file({k: v.contiguous() for k, v in half(tiny.state_dict()).items()}, path)
    from safetensors.torch import load_file
    assert ModelLoader().load_from_state_dict(load_file(path)).scale == 4
    print("wrote", os.path.normpath(path))
    print("wrote", OUT)


if __name__ == "__main__":
    main()
