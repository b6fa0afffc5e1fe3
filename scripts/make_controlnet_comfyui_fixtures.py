#!/usr/bin/env python3
"""ControlNet sampling references recorded from ComfyUI v0.3.64's own code (run by hand, never by CI).

    /work/venv-torch/bin/python scripts/make_controlnet_comfyui_fixtures.py /tmp/comfy0364 /tmp/cextra

Writes:
  - Tests/LatentflowNodesTests/Fixtures/controlnet_comfy_tiny.safetensors: a random-weight ControlNet
    for the tiny checkpoint (models/checkpoints/latentflow-tiny-sd15.safetensors), built as ComfyUI's
    own `comfy.cldm.cldm.ControlNet` from the checkpoint's detected UNet config, in the LDM layout of
    the control_v11 files, float16. (The shipped models/controlnet/latentflow-tiny-controlnet has a
    shrunken hint block, 8/8/16/16 channels; ComfyUI's ControlNet hard-codes SD's 16/32/96/256, so
    ComfyUI cannot load that one.)
  - Tests/LatentflowNodesTests/Fixtures/controlnet_sampling.safetensors, all through ComfyUI's own
    classes: the tiny checkpoint loaded by comfy.sd.load_checkpoint_guess_config (the UNet of a
    tiny SD15 config, scripts/comfyui_tiny.py), the ControlNet by comfy.controlnet.load_controlnet,
    nodes.ControlNetApplyAdvanced (strength 0.7, start/end 0.1/0.8, and two chained), then
      * `single.i` / `chained.i`: the CFG denoised prediction (cfg 3) at three sigmas (above the
        start, inside, below the end), taken by a probing sampler function handed to
        comfy.samplers.KSAMPLER and run through comfy.sample.sample_custom, so ComfyUI's
        CFGGuider, condition batching, ControlNet.get_control / control_merge, KSamplerX0Inpaint
        and the UNet forward make the call;
      * `ksampler.single` / `ksampler.chained`: nodes.KSampler (euler, normal, 4 steps, cfg 3,
        seed 7) from nodes.EmptyLatentImage(64, 64): the whole node result.
"""
import os
import sys

import torch
from safetensors.torch import save_file

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(SCRIPTS, "..")
NODES_FIXTURES = os.path.join(ROOT, "Tests", "LatentflowNodesTests", "Fixtures")
CONTROLNET = os.path.join(NODES_FIXTURES, "controlnet_comfy_tiny.safetensors")


def main():
    sys.path[:0] = sys.argv[2:]
    sys.path.insert(0, SCRIPTS)
    from comfyui_boot import boot
    boot(sys.argv[1])
    torch.set_num_threads(1)
    torch.set_grad_enabled(False)  # the ComfyUI executor runs nodes under inference mode
    import comfy.cldm.cldm
    import comfy.controlnet
    import comfy.ops
    import comfy.sample
    import comfy.samplers
    import comfyui_tiny
    import comfyui_version
    import nodes

    model = comfyui_tiny.load_checkpoint(os.path.join(ROOT, "models", "checkpoints", "latentflow-tiny-sd15.safetensors"))

    # --- the ControlNet: ComfyUI's class, the checkpoint's config, seeded weights -------------------
    torch.manual_seed(2026)
    config = dict(model.model.model_config.unet_config)
    config.pop("out_channels")
    config["hint_channels"] = 3
    net = comfy.cldm.cldm.ControlNet(operations=comfy.ops.disable_weight_init, device="cpu", **config)
    weights = {}
    for name, p in net.state_dict().items():
        if "norm" in name and name.endswith("weight"):
            w = 1 + 0.1 * torch.randn_like(p)
        elif p.ndim > 1:  # fan-in scaled so 8 hint convs and the zero convs stay O(1)
            w = torch.randn_like(p) * (1.2 / p[0].numel() ** 0.5)
        else:
            w = 0.05 * torch.randn_like(p)
        weights["control_model." + name] = w.half().contiguous()
    save_file(weights, CONTROLNET, metadata={"description": "Latentflow's tiny ComfyUI-loadable test ControlNet (random weights)"})
    control_net = comfy.controlnet.load_controlnet(CONTROLNET)
    assert type(control_net).__name__ == "ControlNet", control_net

    # --- the inputs ------------------------------------------------------------------------------
    torch.manual_seed(2027)
    positive_t, negative_t = torch.randn(1, 5, 32), torch.randn(1, 5, 32)
    hint_a, hint_b = torch.rand(1, 64, 64, 3), torch.rand(1, 64, 64, 3)  # IMAGE, 8x the 8x8 latent
    latent = torch.randn(1, 4, 8, 8)
    apply = nodes.ControlNetApplyAdvanced().apply_controlnet
    positive, negative = [[positive_t, {}]], [[negative_t, {}]]
    cases = {"single": apply(positive, negative, control_net, hint_a, 0.7, 0.1, 0.8)}
    first = apply(positive, negative, control_net, hint_b, 0.5, 0.0, 1.0)
    cases["chained"] = apply(first[0], first[1], control_net, hint_a, 0.7, 0.1, 0.8)
    assert cases["chained"][0][0][1]["control"].previous_controlnet is not None

    table = model.get_model_object("model_sampling").sigmas
    test_sigmas = [float(table[995]), float(table[600]), float(table[100])]  # above start, inside, below end
    out = {"positive": positive_t, "negative": negative_t, "hint_a": hint_a.movedim(-1, 1).contiguous(),
           "hint_b": hint_b.movedim(-1, 1).contiguous(), "sigmas": torch.tensor(test_sigmas)}
    xs = [latent * (s ** 2 + 1) ** 0.5 for s in test_sigmas]
    for i, x in enumerate(xs):
        out["x.%d" % i] = x

    for name, (pos, neg) in cases.items():
        probed = []

        def probe(model_k, noise, sigmas, extra_args=None, callback=None, disable=None):
            """A sampler function: ComfyUI's wrapped model asked for its denoised x at each sigma."""
            for x, sigma in zip(xs, test_sigmas):
                probed.append(model_k(x.clone(), torch.tensor([sigma]), **extra_args))
            return noise

        comfy.sample.sample_custom(model, torch.zeros(1, 4, 8, 8), 3.0, comfy.samplers.KSAMPLER(probe),
                                   torch.tensor(test_sigmas + [0.0]), pos, neg, torch.zeros(1, 4, 8, 8), seed=0)
        for i, d in enumerate(probed):
            out["%s.%d" % (name, i)] = d.contiguous()
        (empty,) = nodes.EmptyLatentImage().generate(64, 64, 1)
        (sampled,) = nodes.KSampler().sample(model, 7, 4, 3.0, "euler", "normal", pos, neg, empty)
        out["ksampler." + name] = sampled["samples"].contiguous()
    (empty,) = nodes.EmptyLatentImage().generate(64, 64, 1)
    out["ksampler.none"] = nodes.KSampler().sample(model, 7, 4, 3.0, "euler", "normal", positive, negative, empty)[0]["samples"]

    def psnr(a, b):
        peak = float(b.max() - b.min())
        return 10 * torch.log10(torch.tensor(peak * peak / float(((a - b) ** 2).mean()))).item()

    for name in cases:
        print(name, "KSampler result against no ControlNet: PSNR %.1f dB" % psnr(out["ksampler." + name], out["ksampler.none"]))
    save_file({k: v.contiguous() for k, v in out.items()}, os.path.join(NODES_FIXTURES, "controlnet_sampling.safetensors"),
              metadata={"comfyui_version": comfyui_version.__version__, "torch": torch.__version__,
                        "ksampler": "seed 7, 4 steps, cfg 3, euler, normal, EmptyLatentImage 64x64"})
    print("wrote", CONTROLNET, "and controlnet_sampling.safetensors")


if __name__ == "__main__":
    main()
