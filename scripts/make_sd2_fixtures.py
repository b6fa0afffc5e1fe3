"""SD2.x's text side: a tiny OpenCLIP-layout text tower, its reference outputs, SD2 token ids.

Run by hand (never by CI):
    pip install torch diffusers transformers safetensors
    python3 scripts/make_sd2_fixtures.py --comfyui /path/to/ComfyUI
Writes Tests/LatentflowModelsTests/Fixtures/:
  - tiny_openclip_text.safetensors: float16 `cond_stage_model.model.*` in OpenCLIP's layout (fused
    attn.in_proj, ln_1/ln_2, mlp.c_fc/c_proj, positional_embedding, ln_final, text_projection,
    logit_scale), converted from a transformers CLIPTextModel with GELU. The conversion is checked
    against ComfyUI's own `clip_text_transformers_convert`, which must give the transformers keys
    back. The Swift tests put it into a single-file checkpoint beside the tiny SD2 UNet and VAE.
  - tiny_openclip_reference.safetensors: transformers' hidden states (last layer, and the
    penultimate with the final LayerNorm, SD2's default in ComfyUI) for token rows padded with 0
    as ComfyUI's SD2 tokenizer pads them;
  - tiny_sd2_inpaint_unet/ (diffusers layout, float16) and tiny_sd2_inpaint_reference.safetensors:
    an SD2-style inpainting UNet (linear proj_in/out, 64-wide heads, 9 input channels, a 128-wide
    context like the tower's) and diffusers' output on it;
  - tokens_sd2.json: ComfyUI's SD2Tokenizer.tokenize_with_weights on a few prompts (padding 0).
"""
import json
import os

import torch
from diffusers import UNet2DConditionModel
from safetensors.torch import save_file
from transformers import CLIPTextConfig, CLIPTextModel

from tiny_models import MODEL_FIXTURES, boot_comfyui, randomize

boot_comfyui()
out_dir = MODEL_FIXTURES
import comfy.text_encoders.sd2_clip  # noqa: E402
import comfy.utils  # noqa: E402

torch.manual_seed(2024)

# The fixtures are float16: the references run on the same rounded weights, in float32.

# --- OpenCLIP-style text tower: 3 layers of width 128 (two 64-wide heads, as ViT-H), GELU ---------
clip = randomize(CLIPTextModel(CLIPTextConfig(vocab_size=1000, hidden_size=128, intermediate_size=256, num_attention_heads=2,
                                              num_hidden_layers=3, max_position_embeddings=77, hidden_act="gelu")), 0.3, round_to_float16=True)
hf = {k.removeprefix("text_model."): v for k, v in clip.state_dict().items() if "position_ids" not in k}
openclip = {"positional_embedding": hf["embeddings.position_embedding.weight"],
            "token_embedding.weight": hf["embeddings.token_embedding.weight"],
            "ln_final.weight": hf["final_layer_norm.weight"], "ln_final.bias": hf["final_layer_norm.bias"],
            "text_projection": torch.randn(128, 128) * 0.05, "logit_scale": torch.tensor(4.6052)}
parts = {"layer_norm1": "ln_1", "layer_norm2": "ln_2", "mlp.fc1": "mlp.c_fc", "mlp.fc2": "mlp.c_proj", "self_attn.out_proj": "attn.out_proj"}
for layer in range(3):
    for hf_name, oc_name in parts.items():
        for y in ["weight", "bias"]:
            openclip[f"transformer.resblocks.{layer}.{oc_name}.{y}"] = hf[f"encoder.layers.{layer}.{hf_name}.{y}"]
    for y in ["weight", "bias"]:
        openclip[f"transformer.resblocks.{layer}.attn.in_proj_{y}"] = torch.cat(
            [hf[f"encoder.layers.{layer}.self_attn.{p}_proj.{y}"] for p in "qkv"], dim=0)

# ComfyUI's own table must turn the OpenCLIP keys back into the transformers ones.
back = comfy.utils.clip_text_transformers_convert({"clip_h." + k: v.clone() for k, v in openclip.items()}, "clip_h.", "clip_h.transformer.")
for key, value in hf.items():
    assert torch.equal(back["clip_h.transformer.text_model." + key], value), key

# Token rows as ComfyUI's SD2 tokenizer builds them: BOS, ids, EOS, then 0s (ids < 1000 here).
tokens = torch.tensor([[406, 5, 17, 999, 3, 407] + [0] * 71, [406, 407] + [0] * 75])
with torch.no_grad():
    out = clip(tokens, output_hidden_states=True)
    clip_last = out.last_hidden_state
    clip_penultimate = clip.final_layer_norm(out.hidden_states[-2])

save_file({"cond_stage_model.model." + k: v.half().contiguous() for k, v in openclip.items()},
          os.path.join(out_dir, "tiny_openclip_text.safetensors"), metadata={"format": "pt"})
save_file({"clip.tokens": tokens.to(torch.int64), "clip.last": clip_last.contiguous(), "clip.penultimate": clip_penultimate.contiguous()},
          os.path.join(out_dir, "tiny_openclip_reference.safetensors"))

# --- An SD2.x-style inpainting UNet: linear proj_in/out, 64-wide heads (diffusers' legacy
# attention_head_dim holds head counts), 9 input channels, a context as wide as the tower above ------
torch.manual_seed(6)
sd2_unet = randomize(UNet2DConditionModel(
    sample_size=8, in_channels=9, out_channels=4, block_out_channels=(32, 64), layers_per_block=1,
    down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
    cross_attention_dim=128, attention_head_dim=(1, 1), use_linear_projection=True, norm_num_groups=32), 0.15, round_to_float16=True)
sd2_unet.half().save_pretrained(os.path.join(out_dir, "tiny_sd2_inpaint_unet"), safe_serialization=True)
x9, t, context = torch.randn(2, 9, 8, 8), torch.tensor([999.0, 259.0]), torch.randn(2, 5, 128)
with torch.no_grad():
    sd2_out = sd2_unet.float()(x9, t, encoder_hidden_states=context).sample
save_file({"x": x9, "t": t, "context": context, "out": sd2_out.contiguous()},
          os.path.join(out_dir, "tiny_sd2_inpaint_reference.safetensors"))

# --- ComfyUI's SD2 tokenizer: padding with 0 instead of the end token ------------------------------
tokenizer = comfy.text_encoders.sd2_clip.SD2Tokenizer(embedding_directory=None)
cases = []
for prompt in ["a photo of a cat", "", "a (red:1.3) car at ((sunset))", "masterpiece, best quality, " * 16 + "(long:0.8) prompt"]:
    chunks = tokenizer.tokenize_with_weights(prompt)["h"]
    cases.append({"prompt": prompt, "chunks": [[[int(t), float(w)] for t, w, *_ in chunk] for chunk in chunks]})
with open(os.path.join(out_dir, "tokens_sd2.json"), "w") as f:
    json.dump(cases, f, ensure_ascii=False)
print("wrote tiny_openclip_text.safetensors, tiny_openclip_reference.safetensors, tiny_sd2_inpaint_unet/, tiny_sd2_inpaint_reference.safetensors, tokens_sd2.json to", os.path.normpath(out_dir))
