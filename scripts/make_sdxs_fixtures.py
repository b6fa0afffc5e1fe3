"""Tiny SDXS-style pruned UNets (per-level block counts, no or a ResBlock-only middle block)
against diffusers' UNet2DConditionModel.

Run by hand (never by CI) in a venv with torch, diffusers and safetensors:
    python3 scripts/make_sdxs_fixtures.py
Writes Tests/LatentflowModelsTests/Fixtures/tiny_sdxs_<name>.safetensors: the UNet in the LDM
layout (float16, `model.diffusion_model.` keys, as UNETLoader reads it) plus `test.x`, `test.t`,
`test.context` and diffusers' output `test.out` (float32, on the float16-rounded weights).

The diffusers → LDM renaming below is ComfyUI's `unet_to_diffusers` (comfy/utils.py) restated for
per-level `num_res_blocks` (`layers_per_block` a list) and the middle block ComfyUI's
`detect_unet_config` reads as `transformer_depth_middle` -2 (none: diffusers `mid_block_type=None`)
or -1 (a single ResBlock: diffusers `UNetMidBlock2D`, which UNet2DConditionModel builds with
`num_layers=0` and no attention).
"""
import os
import sys

import torch
from diffusers import UNet2DConditionModel
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tiny_models import MODEL_FIXTURES, randomize  # noqa: E402

RESNET = [("norm1", "in_layers.0"), ("conv1", "in_layers.2"), ("time_emb_proj", "emb_layers.1"),
          ("norm2", "out_layers.0"), ("conv2", "out_layers.3"), ("conv_shortcut", "skip_connection")]


def ldm_modules(layers, attention, middle):
    """diffusers module → LDM module for a UNet with `layers[level]` ResBlocks per level."""
    m = {"conv_in": "input_blocks.0.0", "time_embedding.linear_1": "time_embed.0",
         "time_embedding.linear_2": "time_embed.2", "conv_norm_out": "out.0", "conv_out": "out.2"}

    def resnet(d, l):
        for dd, ll in RESNET:
            m[f"{d}.{dd}"] = f"{l}.{ll}"
    n = 1
    for level, count in enumerate(layers):
        for i in range(count):
            resnet(f"down_blocks.{level}.resnets.{i}", f"input_blocks.{n}.0")
            if attention[level]:
                m[f"down_blocks.{level}.attentions.{i}"] = f"input_blocks.{n}.1"
            n += 1
        if level < len(layers) - 1:
            m[f"down_blocks.{level}.downsamplers.0.conv"] = f"input_blocks.{n}.0.op"
            n += 1
    if middle == "cross":
        resnet("mid_block.resnets.0", "middle_block.0")
        m["mid_block.attentions.0"] = "middle_block.1"
        resnet("mid_block.resnets.1", "middle_block.2")
    elif middle == "resnet":
        resnet("mid_block.resnets.0", "middle_block.0")
    n = 0
    for x, level in enumerate(reversed(range(len(layers)))):
        for i in range(layers[level] + 1):
            resnet(f"up_blocks.{x}.resnets.{i}", f"output_blocks.{n}.0")
            if attention[level]:
                m[f"up_blocks.{x}.attentions.{i}"] = f"output_blocks.{n}.1"
            if level > 0 and i == layers[level]:
                m[f"up_blocks.{x}.upsamplers.0.conv"] = f"output_blocks.{n}.{2 if attention[level] else 1}.conv"
            n += 1
    return m


def ldm_name(key, modules):
    parts = key.split(".")
    for cut in range(len(parts), 0, -1):
        prefix = ".".join(parts[:cut])
        if prefix in modules:
            return ".".join([modules[prefix]] + parts[cut:])
    raise KeyError(key)


CASES = {
    # SDXS-512-like: no attention on the first level, one ResBlock there, no middle block.
    "no_middle": dict(layers=[1, 2], attention=[False, True], middle=None),
    # A single-ResBlock middle (transformer_depth_middle -1) and uneven counts the other way.
    "resnet_middle": dict(layers=[2, 1], attention=[False, False], middle="UNetMidBlock2D"),
}
torch.manual_seed(512)
for name, case in CASES.items():
    levels = len(case["layers"])
    down = tuple("CrossAttnDownBlock2D" if a else "DownBlock2D" for a in case["attention"])
    up = tuple("CrossAttnUpBlock2D" if a else "UpBlock2D" for a in reversed(case["attention"]))
    unet = randomize(UNet2DConditionModel(
        sample_size=8, in_channels=4, out_channels=4, block_out_channels=(32,) * levels,
        layers_per_block=case["layers"], down_block_types=down, up_block_types=up, mid_block_type=case["middle"],
        cross_attention_dim=32, attention_head_dim=8, norm_num_groups=32), 0.15, round_to_float16=True)
    middle = {None: None, "UNetMidBlock2D": "resnet"}[case["middle"]]
    modules = ldm_modules(case["layers"], case["attention"], middle)
    tensors = {"model.diffusion_model." + ldm_name(k, modules): v.half().contiguous() for k, v in unet.state_dict().items()}
    x, t, context = torch.randn(2, 4, 8, 8), torch.tensor([999.0, 259.0]), torch.randn(2, 5, 32)
    with torch.no_grad():
        out = unet(x, t, encoder_hidden_states=context).sample
    tensors.update({"test.x": x, "test.t": t, "test.context": context, "test.out": out.contiguous()})
    path = os.path.join(MODEL_FIXTURES, f"tiny_sdxs_{name}.safetensors")
    save_file(tensors, path)
    print(f"wrote {os.path.normpath(path)} ({os.path.getsize(path)} bytes)")
