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
  - Tests/LatentflowNodesTests/Fixtures/t2i_unet/ (a diffusers UNet2DConditionModel, float16) and
    t2i_adapter_comfy_tiny.safetensors (a full T2I-Adapter in TencentARC's names, float16, built as
    ComfyUI's comfy.t2i_adapter.adapter.Adapter with the SD1.4 adapters' ksize 1, sk, no conv
    downsampling), and t2i_adapter_sampling.safetensors: nodes.ControlNetApplyAdvanced with that
    adapter (loaded by comfy.controlnet.load_controlnet, strength 0.8, start/end 0/0.6) then
    nodes.KSampler on the UNet (loaded into ComfyUI by scripts/comfyui_tiny.py). ComfyUI adds the
    adapter's level-i feature after the UNet's input block 3i+2 (it assumes SD's two res blocks
    per level), so this UNet has two res blocks and 32 channels (one level, to stay small), and the
    adapter channels 32/64/128/128 (its last three levels land past the UNet's three input blocks
    and go unused, as ComfyUI leaves them). The shipped tiny UNet (one res block per level) and tiny adapter
    (8/16/32/32) do not fit ComfyUI's placement, and the light adapter cannot be made tiny for
    ComfyUI at all (Adapter_light hard-codes 320/640/1280/1280): their network calls stay compared
    against diffusers (scripts/make_controlnet_fixtures.py).
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
    t2i_adapter(nodes, comfyui_tiny, metadata={"comfyui_version": comfyui_version.__version__, "torch": torch.__version__})


def t2i_adapter(nodes, comfyui_tiny, metadata):
    import comfy.controlnet
    import comfy.t2i_adapter.adapter
    from diffusers import UNet2DConditionModel
    from tiny_models import randomize

    torch.manual_seed(2028)
    unet = randomize(UNet2DConditionModel(
        sample_size=8, in_channels=4, out_channels=4, block_out_channels=(32,), layers_per_block=2,
        down_block_types=("CrossAttnDownBlock2D",), up_block_types=("CrossAttnUpBlock2D",),
        cross_attention_dim=32, attention_head_dim=8), scale=0.1, round_to_float16=True)
    folder = os.path.join(NODES_FIXTURES, "t2i_unet")
    unet.half().save_pretrained(folder, safe_serialization=True)
    model = comfyui_tiny.load_diffusers_unet(folder)

    adapter = comfy.t2i_adapter.adapter.Adapter(cin=3 * 64, channels=[32, 64, 128, 128], nums_rb=2, ksize=1, sk=True,
                                                use_conv=False, xl=False)
    weights = {}
    for name, p in adapter.state_dict().items():
        w = torch.randn_like(p) * (1.0 / p[0].numel() ** 0.5) if p.ndim > 1 else 0.05 * torch.randn_like(p)
        weights[name] = w.half().contiguous()
    path = os.path.join(NODES_FIXTURES, "t2i_adapter_comfy_tiny.safetensors")
    save_file(weights, path, metadata={"description": "Latentflow's tiny ComfyUI-placeable test T2I-Adapter (random weights)"})
    loaded = comfy.controlnet.load_controlnet(path)
    assert type(loaded).__name__ == "T2IAdapter", loaded

    positive_t, negative_t = torch.randn(1, 5, 32), torch.randn(1, 5, 32)
    hint = torch.rand(1, 64, 64, 3)
    positive, negative = [[positive_t, {}]], [[negative_t, {}]]
    out = {"positive": positive_t, "negative": negative_t, "hint": hint}
    controlled = nodes.ControlNetApplyAdvanced().apply_controlnet(positive, negative, loaded, hint, 0.8, 0.0, 0.6)
    for name, (pos, neg) in {"adapter": controlled, "none": (positive, negative)}.items():
        (empty,) = nodes.EmptyLatentImage().generate(64, 64, 1)
        out["ksampler." + name] = nodes.KSampler().sample(model, 13, 4, 2.5, "euler", "normal", pos, neg, empty)[0]["samples"].contiguous()
    a, b = out["ksampler.adapter"], out["ksampler.none"]
    peak = float(b.max() - b.min())
    print("T2I-Adapter KSampler result against none: PSNR %.1f dB" % (10 * torch.log10(torch.tensor(peak * peak / float(((a - b) ** 2).mean())))))
    save_file(out, os.path.join(NODES_FIXTURES, "t2i_adapter_sampling.safetensors"),
              metadata=dict(metadata, ksampler="seed 13, 4 steps, cfg 2.5, euler, normal, EmptyLatentImage 64x64"))


if __name__ == "__main__":
    main()
