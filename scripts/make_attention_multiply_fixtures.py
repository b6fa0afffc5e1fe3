#!/usr/bin/env python3
"""Writes Tests/LatentflowNodesTests/Fixtures/attention_multiply.safetensors: ComfyUI v0.3.64's own
UNetSelfAttentionMultiply, UNetCrossAttentionMultiply and CLIPAttentionMultiply
(`comfy_extras/nodes_attention_multiply.py`, run from a checkout) on the tiny SD1.5 checkpoint's weights,
patched by ComfyUI's ModelPatcher (`add_patches` + `patch_model`, i.e. `comfy.lora.calculate_weight`).

The checkpoint's detection fails for the tiny UNet, so the weights are loaded into bare modules with
the same keys, in the dtypes ComfyUI keeps on CPU: the UNet in float32, the text encoder in float16.
CLIPAttentionMultiply gets a stand-in CLIP object whose `clone`/`add_patches` forward to a real
ModelPatcher, as `comfy.sd.CLIP`'s do. For each case the fixture holds every weight the node patched
(under Latentflow's keys: LDM keys without `model.diffusion_model.`, HF keys without `text_model.`),
its first SLICE values flattened, and the list of the keys it patched.

Run by hand, never by CI:
  /work/venv-torch/bin/python scripts/make_attention_multiply_fixtures.py /path/to/ComfyUI [extra sys.path ...]
"""
import json
import os
import sys

import torch
from safetensors.torch import load_file, save_file

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from comfyui_boot import boot  # noqa: E402

CHECKPOINT = os.path.join(HERE, "..", "models", "checkpoints", "latentflow-tiny-sd15.safetensors")
SLICE = 48  # the first values of each patched weight, which keep the fixture small
OUT = os.path.join(HERE, "..", "Tests", "LatentflowNodesTests", "Fixtures", "attention_multiply.safetensors")


def tree(state):
    """A bare module whose state_dict keys are `state`'s."""
    root = torch.nn.Module()
    for key, value in state.items():
        *path, leaf = key.split(".")
        node = root
        for part in path:
            if not hasattr(node, part):
                node.add_module(part, torch.nn.Module())
            node = getattr(node, part)
        node.register_parameter(leaf, torch.nn.Parameter(value.clone(), requires_grad=False))
    return root


def main():
    sys.path += sys.argv[2:]
    boot(sys.argv[1])
    import comfy.model_patcher
    import comfyui_version
    from comfy_extras import nodes_attention_multiply as am

    sd = load_file(CHECKPOINT)
    unet_prefix, clip_prefix = "model.diffusion_model.", "cond_stage_model.transformer.text_model."
    unet = {k[len(unet_prefix):]: v.float() for k, v in sd.items() if k.startswith(unet_prefix)}
    clip = {k[len(clip_prefix):]: v.half() for k, v in sd.items() if k.startswith(clip_prefix)}
    cpu = torch.device("cpu")

    class StandInCLIP:
        def __init__(self, patcher):
            self.patcher = patcher

        def clone(self):
            return StandInCLIP(self.patcher.clone())

        def add_patches(self, patches, strength_patch=1.0, strength_model=1.0):
            return self.patcher.add_patches(patches, strength_patch, strength_model)

    tensors, cases = {}, {}

    def record(name, patcher, original, factors):
        patched_keys = sorted(patcher.patches.keys())
        patcher.patch_model()
        state = patcher.model.state_dict()
        for key in patched_keys:
            tensors[f"{name}/{key}"] = state[key].float().flatten()[:SLICE].contiguous()
        cases[name] = dict(factors=factors, keys=patched_keys,
                           changed=[k for k in patched_keys if not torch.equal(state[k], original[k])])

    for name, node, factors in [("self", am.UNetSelfAttentionMultiply, (0.5, 1.2, 1.5, 0.8)),
                                ("cross", am.UNetCrossAttentionMultiply, (1.3, 0.0, 2.0, 1.0))]:
        model = comfy.model_patcher.ModelPatcher(tree(unet), cpu, cpu)
        record(name, node.execute(model, *factors).args[0], unet, factors)
    factors = (1.1, 0.9, 1.0, 1.7)
    clip_patcher = comfy.model_patcher.ModelPatcher(tree(clip), cpu, cpu)
    record("clip", am.CLIPAttentionMultiply.execute(StandInCLIP(clip_patcher), *factors).args[0].patcher, clip, factors)

    save_file(tensors, OUT, metadata={"comfyui_version": comfyui_version.__version__, "cases": json.dumps(cases)})
    print("wrote", OUT, os.path.getsize(OUT), "bytes;", {k: (len(v["keys"]), len(v["changed"])) for k, v in cases.items()})


if __name__ == "__main__":
    main()
