"""Reference for the model- and CLIP-merge nodes on the tiny checkpoints.

A torch transcription of ComfyUI v0.3.64 (read, not imported):
- comfy_extras/nodes_model_merging.py: ModelMergeSimple (add_patches(kp, 1 - ratio, ratio)),
  ModelSubtract (-multiplier, multiplier), ModelAdd (1, 1), ModelMergeBlocks (longest matching
  kwarg prefix, first kwarg the default), CLIPMergeSimple/Subtract/Add (skip position_ids, logit_scale);
  comfy_extras/nodes_model_merging_model_specific.py: ModelMergeSD1's block prefixes.
- comfy/model_patcher.py add_patches (a key model1 lacks is skipped) and comfy/lora.py
  calculate_weight: weight *= strength_model; weight += strength * diff (float32, skipped with a
  warning on a shape mismatch), then cast back to the weight's dtype.
ComfyUI on CPU keeps the UNet in float32 and the text encoder in float16.

model1 = models/checkpoints/latentflow-tiny-sd15.safetensors, model2 = its inpainting twin (other
random weights; input_blocks.0.0.weight has 9 input channels, so it is not merged).
Writes Tests/LatentflowNodesTests/Fixtures/model_merge.safetensors: for each case, the merged
tensors of a few keys. Run: /work/venv-torch/bin/python scripts/make_merge_fixtures.py
"""

from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

ROOT = Path(__file__).resolve().parent.parent
UNET = "model.diffusion_model."
CLIP = "cond_stage_model.transformer.text_model."


def parts(path):
    sd = load_file(ROOT / path)
    unet = {k[len(UNET):]: v.float() for k, v in sd.items() if k.startswith(UNET)}
    clip = {k[len(CLIP):]: v.half() for k, v in sd.items() if k.startswith(CLIP)}
    return unet, clip


def calculate_weight(w1, w2, strength_patch, strength_model):
    """comfy/lora.py calculate_weight for one "diff" patch, in float32, cast back."""
    weight = w1.to(torch.float32).clone()
    if strength_model != 1.0:
        weight *= strength_model
    if w2.shape != weight.shape:
        return w1  # "WARNING SHAPE MISMATCH ... WEIGHT NOT MERGED"
    if strength_patch != 0.0:
        weight += strength_patch * w2.to(torch.float32)
    return weight.to(w1.dtype)


def merge(m1, m2, strengths, skip=lambda k: False):
    out = dict(m1)
    for k in m2:
        if k not in m1 or skip(k):
            continue
        s = strengths(k)
        out[k] = calculate_weight(m1[k], m2[k], *s)
    return out


def block_strengths(kwargs):
    default = next(iter(kwargs.values()))

    def strengths(k):
        ratio, longest = default, 0
        for arg, value in kwargs.items():
            if k.startswith(arg) and longest < len(arg):
                ratio, longest = value, len(arg)
        return (1.0 - ratio, ratio)

    return strengths


def main():
    unet1, clip1 = parts("models/checkpoints/latentflow-tiny-sd15.safetensors")
    unet2, clip2 = parts("models/checkpoints/latentflow-tiny-sd15-inpainting.safetensors")
    unet_keys = [
        "input_blocks.0.0.weight", "time_embed.0.bias", "input_blocks.1.0.in_layers.2.bias",
        "input_blocks.1.1.proj_in.weight", "input_blocks.3.0.skip_connection.weight", "middle_block.1.transformer_blocks.0.attn2.to_k.weight",
        "middle_block.2.out_layers.3.bias", "output_blocks.3.0.skip_connection.weight", "out.2.weight",
    ]
    missing = [k for k in unet_keys if k not in unet1]
    assert not missing, missing
    clip_keys = [
        "embeddings.position_embedding.weight", "encoder.layers.0.self_attn.q_proj.weight",
        "encoder.layers.1.mlp.fc2.bias", "final_layer_norm.weight",
    ]
    assert all(k in clip1 for k in clip_keys), [k for k in clip_keys if k not in clip1]
    sd1 = {"time_embed.": 0.15, "label_emb.": 0.5}
    sd1.update({f"input_blocks.{i}.": 0.05 * i for i in range(12)})
    sd1.update({f"middle_block.{i}.": 0.4 + 0.1 * i for i in range(3)})
    sd1.update({f"output_blocks.{i}.": 1.0 - 0.07 * i for i in range(12)})
    sd1["out."] = 0.35
    skip_clip = lambda k: k.endswith(".position_ids") or k.endswith(".logit_scale")
    cases = {
        "simple": (merge(unet1, unet2, lambda k: (1.0 - 0.3, 0.3)), unet_keys),
        "blocks": (merge(unet1, unet2, block_strengths({"input": 0.2, "middle": 0.55, "out": 0.9})), unet_keys),
        "sd1": (merge(unet1, unet2, block_strengths(sd1)), unet_keys),
        "subtract": (merge(unet1, unet2, lambda k: (-0.6, 0.6)), unet_keys),
        "add": (merge(unet1, unet2, lambda k: (1.0, 1.0)), unet_keys),
        "clip_simple": (merge(clip1, clip2, lambda k: (1.0 - 0.25, 0.25), skip_clip), clip_keys),
        "clip_subtract": (merge(clip1, clip2, lambda k: (-1.5, 1.5), skip_clip), clip_keys),
        "clip_add": (merge(clip1, clip2, lambda k: (1.0, 1.0), skip_clip), clip_keys),
    }
    out = {}
    for name, (weights, keys) in cases.items():
        for k in keys:
            out[f"{name}/{k}"] = weights[k].float().clone().contiguous()
    path = ROOT / "Tests/LatentflowNodesTests/Fixtures/model_merge.safetensors"
    save_file(out, path)
    print(path, path.stat().st_size, "bytes,", len(out), "tensors")


if __name__ == "__main__":
    main()
