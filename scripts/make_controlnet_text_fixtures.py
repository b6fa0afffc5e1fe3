#!/usr/bin/env python3
"""CLIPTextEncodeControlnet's `cross_attn_controlnet` through ComfyUI v0.3.64's own sampling code
(run by hand, never by CI):

    /work/venv-torch/bin/python scripts/make_controlnet_text_fixtures.py /tmp/comfy0364 /tmp/cextra

Writes Tests/LatentflowNodesTests/Fixtures/controlnet_text.safetensors: the tiny checkpoint
(scripts/comfyui_tiny.py) with the ComfyUI-loadable tiny ControlNet
(Fixtures/controlnet_comfy_tiny.safetensors) applied by nodes.ControlNetApplyAdvanced (0.9 over
0...1), then comfy_extras.nodes_cond.CLIPTextEncodeControlnet's key set on the positive entry to a
fixed 7-token context (the node stores the CLIP encoding of its text there; the tensor stands in
for it so the reference does not depend on the text tower), and the CFG denoised prediction (cfg
2.5) at two sigmas, taken by a probing sampler function through comfy.sample.sample_custom, so
ComfyUI's ControlNet.get_control reads `crossattn_controlnet` instead of the text context. `plain.i`
is the same without the key.
"""
import os
import sys

import torch
from safetensors.torch import save_file

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(SCRIPTS, "..")
NODES_FIXTURES = os.path.join(ROOT, "Tests", "LatentflowNodesTests", "Fixtures")


def main():
    torch.set_num_threads(1)
    torch.set_grad_enabled(False)
    comfyui, extra = sys.argv[1], sys.argv[2:]
    sys.path.insert(0, SCRIPTS)
    from comfyui_boot import boot
    boot(comfyui)
    sys.path += extra  # after ComfyUI, so its own `utils` package is not shadowed
    import utils.install_util  # noqa: F401  (ComfyUI's own utils package first)
    import comfy.controlnet
    import comfy.sample
    import comfy.samplers
    import comfyui_tiny
    import nodes

    model = comfyui_tiny.load_checkpoint(os.path.join(ROOT, "models", "checkpoints", "latentflow-tiny-sd15.safetensors"))
    control_net = comfy.controlnet.load_controlnet(os.path.join(NODES_FIXTURES, "controlnet_comfy_tiny.safetensors"))

    torch.manual_seed(2031)
    positive_t, negative_t, control_t = torch.randn(1, 5, 32), torch.randn(1, 5, 32), torch.randn(1, 7, 32)
    hint = torch.rand(1, 64, 64, 3)
    latent = torch.randn(1, 4, 8, 8)
    positive, negative = nodes.ControlNetApplyAdvanced().apply_controlnet(
        [[positive_t, {}]], [[negative_t, {}]], control_net, hint, 0.9, 0.0, 1.0)
    # What CLIPTextEncodeControlnet.execute does to each entry, with a fixed tensor for the encoding.
    texted = [[t[0], dict(t[1], cross_attn_controlnet=control_t)] for t in positive]

    table = model.get_model_object("model_sampling").sigmas
    sigmas = [float(table[900]), float(table[300])]
    out = {"positive": positive_t, "negative": negative_t, "control_context": control_t,
           "hint": hint.movedim(-1, 1).contiguous(), "sigmas": torch.tensor(sigmas)}
    xs = [latent * (s ** 2 + 1) ** 0.5 for s in sigmas]
    for i, x in enumerate(xs):
        out["x.%d" % i] = x
    for name, pos in [("texted", texted), ("plain", positive)]:
        probed = []

        def probe(model_k, noise, sigmas_, extra_args=None, callback=None, disable=None):
            for x, sigma in zip(xs, sigmas):
                probed.append(model_k(x.clone(), torch.tensor([sigma]), **extra_args))
            return noise

        comfy.sample.sample_custom(model, torch.zeros(1, 4, 8, 8), 2.5, comfy.samplers.KSAMPLER(probe),
                                   torch.tensor(sigmas + [0.0]), pos, negative, torch.zeros(1, 4, 8, 8), seed=0)
        for i, d in enumerate(probed):
            out["%s.%d" % (name, i)] = d.contiguous()
    print("texted vs plain max diff", max(float((out["texted.%d" % i] - out["plain.%d" % i]).abs().max()) for i in range(2)))
    save_file({k: v.contiguous() for k, v in out.items()}, os.path.join(NODES_FIXTURES, "controlnet_text.safetensors"),
              metadata={"comfyui_version": "0.3.64", "torch": torch.__version__, "cfg": "2.5"})


if __name__ == "__main__":
    main()
