"""SDXS-512 as its download ships it: diffusers-layout UNets (SD_XS and SD09_XS structure, as
ComfyUI's `unet_config_from_diffusers_unet` lists them) and a transformers-layout text encoder, on
tiny random weights, with diffusers'/transformers' outputs.

Run by hand (never by CI) in a venv with torch, diffusers, transformers and safetensors:
    python3 scripts/make_sdxs_diffusers_fixtures.py
Writes:
  - models/diffusion_models/latentflow-tiny-sdxs-09-unet.safetensors: an SD09_XS-shaped
    UNet2DConditionModel in diffusers keys (float16), as `unet/diffusion_pytorch_model.safetensors`
    of IDKiro/sdxs-512-0.9 is laid out: one ResBlock per level, attention on every level, the first
    level's transformers cross-attention only (diffusers `only_cross_attention`, ComfyUI
    `disable_self_attentions`), linear projections, 64-wide heads, no middle block. Tiny: channels
    (64, 64, 64) where the real model has (320, 640, 1280) (one 64-wide head each), a
    64-wide context where it has 1024.
  - models/text_encoders/latentflow-tiny-sdxs-09-text-encoder.safetensors: a transformers
    CLIPTextModel (`text_model.*`, GELU, 23 layers as diffusers' SD2.x conversion leaves OpenCLIP
    ViT-H) of width 64, as `text_encoder/model.safetensors`.
  - Tests/LatentflowModelsTests/Fixtures/tiny_sdxs_09_unet_config.json: that UNet's config.json.
  - Tests/LatentflowModelsTests/Fixtures/tiny_sdxs_diffusers_sd_xs.safetensors: an SD_XS-shaped UNet
    (no attention on level 0, 1x1-conv projections, 8 heads; channels (32, 32, 64), a 32-wide context), diffusers keys.
  - Tests/LatentflowModelsTests/Fixtures/tiny_sdxs_diffusers_not_sd.safetensors: an SDXL-style
    diffusers UNet (text_time add_embedding, two transformers per block) no SD entry matches.
  - Tests/LatentflowModelsTests/Fixtures/tiny_sdxs_diffusers_autoencoder_tiny.safetensors: a diffusers
    AutoencoderTiny (8 channels) with one block per level, not TAESD's layout, which VAELoader refuses by name
    (scripts/make_autoencoder_tiny_fixtures.py writes the TAESD-shaped one it reads).
  - Tests/LatentflowModelsTests/Fixtures/tiny_sdxs_diffusers_reference.safetensors: per UNet
    `<case>.x`, `<case>.t`, `<case>.context` and diffusers' `<case>.out` (float32, on the
    float16-rounded weights); `text.tokens` and `text.hidden` (the last layer with the final
    LayerNorm: what ComfyUI's SD2 CLIP reads from a 23-layer file, its layer -2 of 24).
  - Tests/LatentflowModelsTests/Fixtures/sdxs_diffusers_shapes.json: {key: shape} of full-size
    diffusers UNets (built on the meta device, no tensors) for ComfyUI's SD15, SD21, SD21_uncliph,
    SD15_diffusers_inpaint, SD09_XS and SD_XS entries and for Segmind Vega (SDXL-family, refused).
"""
import json
import os
import sys

import torch
from diffusers import AutoencoderTiny, UNet2DConditionModel
from safetensors.torch import save_file
from transformers import CLIPTextConfig, CLIPTextModel

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tiny_models import MODEL_FIXTURES, SCRIPTS, randomize  # noqa: E402

MODELS = os.path.join(SCRIPTS, "..", "models")


def sdxs_09(blocks, context, heads):
    return dict(block_out_channels=blocks, layers_per_block=1, down_block_types=("CrossAttnDownBlock2D",) * 3,
                up_block_types=("CrossAttnUpBlock2D",) * 3, mid_block_type=None, use_linear_projection=True,
                only_cross_attention=[True, False, False], cross_attention_dim=context, attention_head_dim=heads)


def sd_xs(blocks, context):
    return dict(block_out_channels=blocks, layers_per_block=1,
                down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
                up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"), mid_block_type=None,
                use_linear_projection=False, cross_attention_dim=context, attention_head_dim=8)


def write(tensors, path):
    save_file(tensors, path)
    print(f"wrote {os.path.normpath(path)} ({os.path.getsize(path)} bytes)")


torch.manual_seed(9)
reference = {}
tiny = {
    # diffusers' attention_head_dim is the head count: one 64-wide head on 64 channels.
    "sd09_xs": (sdxs_09((64, 64, 64), 64, [1, 1, 1]),
                os.path.join(MODELS, "diffusion_models", "latentflow-tiny-sdxs-09-unet.safetensors"), 64),
    "sd_xs": (sd_xs((32, 32, 64), 32), os.path.join(MODEL_FIXTURES, "tiny_sdxs_diffusers_sd_xs.safetensors"), 32),
}
for name, (config, path, context_dim) in tiny.items():
    unet = randomize(UNet2DConditionModel(sample_size=8, in_channels=4, out_channels=4, norm_num_groups=32, **config),
                     0.15, round_to_float16=True)
    write({k: v.half().contiguous() for k, v in unet.state_dict().items()}, path)
    x, t, context = torch.randn(2, 4, 8, 8), torch.tensor([999.0, 259.0]), torch.randn(2, 5, context_dim)
    with torch.no_grad():
        out = unet(x, t, encoder_hidden_states=context).sample
    reference.update({f"{name}.x": x, f"{name}.t": t, f"{name}.context": context, f"{name}.out": out.contiguous()})
    if name == "sd09_xs":  # its unet/config.json, for DiffusersLoader's reading of only_cross_attention
        with open(os.path.join(MODEL_FIXTURES, "tiny_sdxs_09_unet_config.json"), "w") as f:
            config_json = {k: v for k, v in unet.config.items() if k != "_use_default_values"}  # a set: unordered
            json.dump(config_json, f, indent=2, sort_keys=True)

# Not an SD-family UNet: SDXL's text_time embedding and two transformers per attention block.
not_sd = randomize(UNet2DConditionModel(
    sample_size=8, block_out_channels=(32, 32), layers_per_block=1, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
    up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), transformer_layers_per_block=2, cross_attention_dim=32,
    attention_head_dim=[1, 1], use_linear_projection=True, addition_embed_type="text_time", addition_time_embed_dim=8,
    projection_class_embeddings_input_dim=32 + 6 * 8, norm_num_groups=32), 0.15)
write({k: v.half().contiguous() for k, v in not_sd.state_dict().items()},
      os.path.join(MODEL_FIXTURES, "tiny_sdxs_diffusers_not_sd.safetensors"))

# The text encoder: transformers' CLIPTextModel, SD2.x-style (GELU, 23 layers), 64 wide (one head).
clip = randomize(CLIPTextModel(CLIPTextConfig(
    vocab_size=1000, hidden_size=64, intermediate_size=128, num_attention_heads=1, num_hidden_layers=23,
    max_position_embeddings=77, hidden_act="gelu")), 0.3, round_to_float16=True)
# Keys as the download has them (transformers writes `text_model.*`; newer versions' state_dict drops it).
write({"text_model." + k.removeprefix("text_model."): v.half().contiguous() for k, v in clip.state_dict().items()
       if "position_ids" not in k},
      os.path.join(MODELS, "text_encoders", "latentflow-tiny-sdxs-09-text-encoder.safetensors"))
tokens = torch.tensor([[49406, 320, 1125, 539, 49407] + [0] * 72, [49406, 7, 999, 49407] + [0] * 73])
with torch.no_grad():
    hidden = clip(tokens.clamp(max=999), output_hidden_states=True).hidden_states[-1]
    reference["text.tokens"] = tokens.float()
    final_norm = clip.text_model.final_layer_norm if hasattr(clip, "text_model") else clip.final_layer_norm
    reference["text.hidden"] = final_norm(hidden).contiguous()
write(reference, os.path.join(MODEL_FIXTURES, "tiny_sdxs_diffusers_reference.safetensors"))

# A diffusers AutoencoderTiny (encoder.layers.*, decoder.layers.*) whose block counts are not TAESD's:
# only its key names matter here (VAELoader refuses it by name).
tiny_vae = AutoencoderTiny(encoder_block_out_channels=(8,) * 4, decoder_block_out_channels=(8,) * 4,
                           num_encoder_blocks=(1,) * 4, num_decoder_blocks=(1,) * 4)
write({k: v.half().contiguous() for k, v in tiny_vae.state_dict().items()},
      os.path.join(MODEL_FIXTURES, "tiny_sdxs_diffusers_autoencoder_tiny.safetensors"))

# Full-size key shapes (no tensors): what detection sees in the real files.
full = {
    "SD15": dict(block_out_channels=(320, 640, 1280, 1280), cross_attention_dim=768, attention_head_dim=8),
    "SD21": dict(block_out_channels=(320, 640, 1280, 1280), cross_attention_dim=1024, attention_head_dim=[5, 10, 20, 20],
                 use_linear_projection=True),
    "SD21_uncliph": dict(block_out_channels=(320, 640, 1280, 1280), cross_attention_dim=1024,
                         attention_head_dim=[5, 10, 20, 20], use_linear_projection=True, class_embed_type="projection",
                         projection_class_embeddings_input_dim=2048),
    "SD15_diffusers_inpaint": dict(block_out_channels=(320, 640, 1280, 1280), in_channels=9, cross_attention_dim=768,
                                   attention_head_dim=8),
    "SD09_XS": sdxs_09((320, 640, 1280), 1024, [5, 10, 20]),
    "SD_XS": sd_xs((320, 640, 1280), 768),
    "Segmind_Vega": dict(block_out_channels=(320, 640, 1280), layers_per_block=2,
                         down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
                         up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
                         transformer_layers_per_block=[0, 1, 2], mid_block_type="UNetMidBlock2D",
                         cross_attention_dim=2048, attention_head_dim=[5, 10, 20], use_linear_projection=True,
                         addition_embed_type="text_time", addition_time_embed_dim=256,
                         projection_class_embeddings_input_dim=2816),
}
shapes = {}
with torch.device("meta"):
    for name, config in full.items():
        model = UNet2DConditionModel(**config)
        shapes[name] = {k: list(v.shape) for k, v in model.state_dict().items()}
path = os.path.join(MODEL_FIXTURES, "sdxs_diffusers_shapes.json")
with open(path, "w") as f:
    json.dump(shapes, f, sort_keys=True, separators=(",", ":"))
print(f"wrote {os.path.normpath(path)} ({os.path.getsize(path)} bytes)")
