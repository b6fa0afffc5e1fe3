#!/usr/bin/env python3
"""Writes Tests/LatentflowNodesTests/Fixtures/image_conditioning.safetensors: ComfyUI v0.3.64's own
InstructPixToPixConditioning (`comfy_extras/nodes_ip2p.py`), SD_4XUpscale_Conditioning
(`comfy_extras/nodes_sdupscale.py`) and the InstructPix2Pix UNet's extra channels
(`comfy/model_base.py` `IP2P.concat_cond`), run from a checkout.

Run by hand, never by CI:
  /work/venv-torch/bin/python scripts/make_image_conditioning_fixtures.py /path/to/ComfyUI [extra sys.path ...]

The VAE is a stand-in with ComfyUI's pixel-space behaviour (`encode`: `2x − 1`, channels first), so
the encoding is the cropped image itself; Latentflow's test uses its pixel-space VAE.
"""

import os
import sys
import types

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from comfyui_boot import boot  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "LatentflowNodesTests", "Fixtures",
                   "image_conditioning.safetensors")


class PixelSpaceVAE:
    def encode(self, pixels):
        return pixels.movedim(-1, 1) * 2.0 - 1.0


def main():
    sys.path += sys.argv[2:]
    boot(sys.argv[1])
    import comfy.model_base
    import comfy_extras.nodes_ip2p as ip2p
    import comfy_extras.nodes_sdupscale as sdupscale

    torch.manual_seed(0)
    tensors = {}
    cond = [[torch.zeros(1, 77, 8), {}]]
    pixels = torch.rand(2, 21, 19, 3)
    positive, negative, latent = ip2p.InstructPixToPixConditioning.execute(cond, cond, pixels, PixelSpaceVAE()).result
    tensors.update({"ip2p.pixels": pixels, "ip2p.concat": positive[0][1]["concat_latent_image"],
                    "ip2p.negative_concat": negative[0][1]["concat_latent_image"], "ip2p.latent": latent["samples"]})

    # The UNet's extra channels: a smaller image latent and a batch of 1, for a batch of 3.
    model = types.SimpleNamespace(process_ip2p_image_in=lambda image: image)
    image, noise = torch.randn(1, 4, 5, 6), torch.randn(3, 4, 7, 9)
    tensors.update({"concat.image": image, "concat.noise": noise,
                    "concat.expected": comfy.model_base.IP2P.concat_cond(model, concat_latent_image=image,
                                                                         noise=noise, device="cpu"),
                    "concat.none": comfy.model_base.IP2P.concat_cond(model, noise=noise, device="cpu")})

    images = torch.rand(2, 9, 11, 3)
    tensors["x4.images"] = images
    for name, ratio, augmentation in [("x4.default", 4.0, 0.0), ("x4.ratio2.5", 2.5, 0.3), ("x4.ratio1.3", 1.3, 1.0)]:
        positive, negative, latent = sdupscale.SD_4XUpscale_Conditioning.execute(images, cond, cond, ratio,
                                                                                   augmentation).result
        assert positive[0][1]["noise_augmentation"] == augmentation
        tensors[name + ".concat"] = positive[0][1]["concat_image"]
        tensors[name + ".latent"] = latent["samples"]
    save_file({k: v.contiguous() for k, v in tensors.items()}, OUT, metadata={"comfyui_version": "0.3.64"})
    print("wrote", OUT, {k: list(v.shape) for k, v in tensors.items()}, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
