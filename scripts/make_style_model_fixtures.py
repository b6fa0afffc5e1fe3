#!/usr/bin/env python3
"""Writes Tests/LatentflowNodesTests/Fixtures/style_model_tiny.safetensors (a tiny random T2I style
adapter in the original key layout: style_embedding, proj, ln_pre/ln_post,
transformer_layes.N.{attn.in_proj_*, attn.out_proj.*, ln_1, ln_2, mlp.c_fc, mlp.c_proj}) and
style_model_apply.safetensors: ComfyUI v0.3.64's own `comfy.sd.load_style_model` and
`nodes.StyleModelApply` run on it with a fixed CLIP vision output.

ComfyUI's load_style_model builds StyleAdapter with fixed sizes (width 1024, 3 layers, 8 tokens,
768 out); the script swaps in the same class with smaller sizes (width 16, 2 layers, 4 tokens,
24 out, the same 8 heads) so the file stays a few KB. Everything else is ComfyUI's code.

Run by hand, never by CI:
  /work/venv-torch/bin/python scripts/make_style_model_fixtures.py /path/to/ComfyUI [extra sys.path ...]
"""

import json
import os
import sys

import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from comfyui_boot import boot  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "LatentflowNodesTests", "Fixtures")
MODEL = os.path.join(FIXTURES, "style_model_tiny.safetensors")
OUT = os.path.join(FIXTURES, "style_model_apply.safetensors")
WIDTH, LAYERS, TOKENS, CONTEXT = 16, 2, 4, 24


def main():
    torch.set_num_threads(1)
    sys.path += sys.argv[2:]
    boot(sys.argv[1])
    import utils.install_util  # noqa: F401  (ComfyUI's own utils package, before anything shadows it)
    import comfy.clip_vision
    import comfy.sd
    import comfy.t2i_adapter.adapter as adapter
    import nodes

    original = adapter.StyleAdapter
    adapter.StyleAdapter = lambda **_: original(
        width=WIDTH, context_dim=CONTEXT, num_head=8, n_layes=LAYERS, num_token=TOKENS)

    torch.manual_seed(0)
    weights = {k: torch.randn(v.shape) * (0.3 if v.dim() > 1 else 0.5) + (1.0 if "ln" in k and k.endswith("weight") else 0.0)
               for k, v in original(width=WIDTH, context_dim=CONTEXT, num_head=8, n_layes=LAYERS,
                                    num_token=TOKENS).state_dict().items()}
    save_file({k: v.contiguous() for k, v in weights.items()}, MODEL)
    style = comfy.sd.load_style_model(MODEL)
    assert all(torch.equal(style.model.state_dict()[k], v) for k, v in load_file(MODEL).items())

    vision = comfy.clip_vision.Output()
    vision["last_hidden_state"] = torch.randn(2, 5, WIDTH)
    text = torch.randn(1, 77, CONTEXT)
    second = torch.randn(1, 154, CONTEXT)
    conditioning = [[text, {}], [second, {"strength": 0.5}]]
    tensors = {"vision_states": vision.last_hidden_state, "text0": text, "text1": second}
    cases = {}
    for name, strength, kind in [("multiply_0.7", 0.7, "multiply"), ("multiply_2.5", 2.5, "multiply"),
                                 ("attn_bias_1", 1.0, "attn_bias")]:
        out = nodes.StyleModelApply().apply_stylemodel(conditioning, style, vision, strength, kind)[0]
        assert all("attention_mask" not in entry[1] for entry in out)
        for index, entry in enumerate(out):
            tensors[f"{name}_{index}"] = entry[0]
        cases[name] = {"strength": strength, "strength_type": kind}
    save_file(tensors, OUT, metadata={"cases": json.dumps(cases), "comfyui_version": "0.3.64"})
    print("wrote", MODEL, OUT, {k: tuple(v.shape) for k, v in tensors.items()})


if __name__ == "__main__":
    main()
