#!/usr/bin/env python3
"""Writes Tests/LatentflowNodesTests/Fixtures/unclip_sampling.safetensors: ComfyUI v0.3.64's own
SD21UNCLIP model (comfy/model_base.py, `encode_adm` under the sampling seed) on a tiny unCLIP
checkpoint (the tiny SD1.5 checkpoint plus the `label_emb.*` of
LatentflowModelsTests/Fixtures/unet_adm.safetensors, written to /tmp only), registered as a
subclass of ComfyUI's SD21UnclipL whose only change is the config it matches (tiny widths,
timestep_dim 16, so adm_in_channels 32; under 16 PyTorch draws normals another way; SD1's 8 heads). nodes.unCLIPConditioning (strength 0.9, noise
augmentation 0.3) on the positive, then the CFG denoised prediction (cfg 2) at two sigmas,
taken by a probing sampler through comfy.sample.sample_custom with seed 1234.

Run by hand, never by CI:
  /work/venv-torch/bin/python scripts/make_unclip_sampling_fixtures.py /path/to/ComfyUI /tmp/cextra
"""
import os
import sys

import torch
from safetensors.torch import load_file, save_file

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(SCRIPTS, "..")
OUT = os.path.join(ROOT, "Tests", "LatentflowNodesTests", "Fixtures", "unclip_sampling.safetensors")


def main():
    torch.set_num_threads(1)
    torch.set_grad_enabled(False)
    comfyui, extra = sys.argv[1], sys.argv[2:]
    sys.path.insert(0, SCRIPTS)
    from comfyui_boot import boot
    boot(comfyui)
    sys.path += extra
    import utils.install_util  # noqa: F401
    import comfy.clip_vision
    import comfy.sample
    import comfy.samplers
    import comfy.sd
    import comfy.supported_models as supported
    import nodes

    class TinyUnclip(supported.SD21UnclipL):
        unet_config = {"context_dim": 32, "model_channels": 32, "use_linear_in_transformer": False,
                       "adm_in_channels": 32, "use_temporal_attention": False}
        noise_aug_config = {"noise_schedule_config": {"timesteps": 1000, "beta_schedule": "squaredcos_cap_v2"},
                            "timestep_dim": 16}
        unet_extra_config = {"num_heads": 8, "num_head_channels": -1}  # SD1's 8 heads, as the tiny UNet

    supported.models.insert(0, TinyUnclip)
    weights = load_file(os.path.join(ROOT, "models", "checkpoints", "latentflow-tiny-sd15.safetensors"))
    weights.update({k: v for k, v in load_file(os.path.join(ROOT, "Tests", "LatentflowModelsTests", "Fixtures",
                                                            "unet_adm.safetensors")).items() if k.startswith("model.")})
    path = "/tmp/latentflow-tiny-unclip.safetensors"
    save_file(weights, path)
    model = comfy.sd.load_checkpoint_guess_config(path, output_vae=False, output_clip=False, output_clipvision=False)[0]
    assert type(model.model).__name__ == "SD21UNCLIP", type(model.model)

    torch.manual_seed(2050)
    positive_t, negative_t, latent = torch.randn(1, 5, 32), torch.randn(1, 5, 32), torch.randn(1, 4, 8, 8)
    vision = comfy.clip_vision.Output()
    vision["image_embeds"] = torch.randn(1, 16)
    (positive,) = nodes.unCLIPConditioning().apply_adm([[positive_t, {}]], vision, 0.9, 0.3)
    negative = [[negative_t, {}]]
    table = model.get_model_object("model_sampling").sigmas
    sigmas = [float(table[800]), float(table[200])]
    xs = [latent * (s ** 2 + 1) ** 0.5 for s in sigmas]
    out = {"positive": positive_t, "negative": negative_t, "image_embeds": vision.image_embeds,
           "sigmas": torch.tensor(sigmas)}
    for i, x in enumerate(xs):
        out["x.%d" % i] = x
    for name, pos in [("unclip", positive), ("plain", [[positive_t, {}]])]:
        probed = []

        def probe(model_k, noise, sigmas_, extra_args=None, callback=None, disable=None):
            for x, sigma in zip(xs, sigmas):
                probed.append(model_k(x.clone(), torch.tensor([sigma]), **extra_args))
            return noise

        comfy.sample.sample_custom(model, torch.zeros(1, 4, 8, 8), 2.0, comfy.samplers.KSAMPLER(probe),
                                   torch.tensor(sigmas + [0.0]), pos, negative, torch.zeros(1, 4, 8, 8), seed=1234)
        for i, d in enumerate(probed):
            out["%s.%d" % (name, i)] = d.contiguous()
    print("unclip vs plain max diff", max(float((out["unclip.%d" % i] - out["plain.%d" % i]).abs().max()) for i in range(2)))
    save_file({k: v.contiguous() for k, v in out.items()}, OUT, metadata={"comfyui_version": "0.3.64", "seed": "1234"})
    print("wrote", OUT)


if __name__ == "__main__":
    main()
