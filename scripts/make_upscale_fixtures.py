#!/usr/bin/env python3
"""Reference fixtures for the upscale models (ESRGAN / RRDBNet and Real-ESRGAN Compact).

Builds small random-weight models in each key layout spandrel reads, saves them as ComfyUI
finds them in `models/upscale_models` (`.pth` pickles, also wrapped in `params_ema` as
Real-ESRGAN ships them, and `.safetensors`), loads each back through spandrel's
`ModelLoader().load_from_state_dict` (what ComfyUI's UpscaleModelLoader calls) and records
its output on a seeded image. The last case runs ComfyUI's `tiled_scale_multidim` (a faithful
transcription of comfy/utils.py, 2-D case) with a small tile so the tile placement and the
feathered blending are covered.

Run by hand: /work/venv-torch/bin/python scripts/make_upscale_fixtures.py
(needs `pip install spandrel`; writes Tests/LatentflowModelsTests/Fixtures/upscale/).
"""
import itertools
import os

import torch
from safetensors.torch import save_file
from spandrel import ModelLoader
from spandrel.architectures.Compact import Compact
from spandrel.architectures.ESRGAN import ESRGAN

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "LatentflowModelsTests", "Fixtures", "upscale")


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


def tiled_scale(samples, function, tile, overlap, scale, out_channels):
    """comfy/utils.py tiled_scale_multidim for 2-D tiles, integer scale (ComfyUI v0.3.64)."""
    dims = 2
    output = torch.empty([samples.shape[0], out_channels] + [round(d * scale) for d in samples.shape[2:]])
    for b in range(samples.shape[0]):
        s = samples[b:b + 1]
        if all(s.shape[d + 2] <= tile[d] for d in range(dims)):
            output[b:b + 1] = function(s)
            continue
        out = torch.zeros([1, out_channels] + [round(d * scale) for d in s.shape[2:]])
        out_div = torch.zeros_like(out)
        positions = [range(0, s.shape[d + 2] - overlap, tile[d] - overlap) if s.shape[d + 2] > tile[d] else [0]
                     for d in range(dims)]
        for it in itertools.product(*positions):
            s_in = s
            upscaled = []
            for d in range(dims):
                pos = max(0, min(s.shape[d + 2] - overlap, it[d]))
                length = min(tile[d], s.shape[d + 2] - pos)
                s_in = s_in.narrow(d + 2, pos, length)
                upscaled.append(round(pos * scale))
            ps = function(s_in)
            mask = torch.ones_like(ps)
            for d in range(2, dims + 2):
                feather = round(overlap * scale)
                if feather >= mask.shape[d]:
                    continue
                for t in range(feather):
                    a = (t + 1) / feather
                    mask.narrow(d, t, 1).mul_(a)
                    mask.narrow(d, mask.shape[d] - 1 - t, 1).mul_(a)
            o, o_d = out, out_div
            for d in range(dims):
                o = o.narrow(d + 2, upscaled[d], mask.shape[d + 2])
                o_d = o_d.narrow(d + 2, upscaled[d], mask.shape[d + 2])
            o.add_(ps * mask)
            o_d.add_(mask)
        output[b:b + 1] = out / out_div
    return output


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    refs = {}

    def record(name, path, sd_as_saved, image):
        model = ModelLoader().load_from_state_dict(sd_as_saved).eval()
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
    record("esrgan_x4_old", path, torch.load(path, weights_only=True), torch.rand(1, 3, 12, 10))

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
    record("realesrgan_x2plus", path, torch.load(path, weights_only=True)["params_ema"], torch.rand(1, 3, 11, 9))

    # Real-ESRGAN Compact x4 (realesr-general-x4v3's shape, smaller), safetensors.
    compact = randomize(Compact(num_in_ch=3, num_out_ch=3, num_feat=8, num_conv=3, upscale=4), 3)
    path = os.path.join(OUT, "compact_x4.safetensors")
    save_file({k: v.contiguous() for k, v in compact.state_dict().items()}, path)
    model = record("compact_x4", path, compact.state_dict(), torch.rand(1, 3, 12, 10))

    # Tiled: a 2-image batch of 24x21 in tiles of 16 with overlap 4 (ComfyUI's blending).
    image = torch.rand(2, 3, 24, 21)
    with torch.no_grad():
        tiled = tiled_scale(image, lambda a: model(a), (16, 16), 4, 4, 3)
    refs["compact_tiled.input"] = image
    refs["compact_tiled.output"] = tiled.contiguous()

    save_file(refs, os.path.join(OUT, "upscale_reference.safetensors"))

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
