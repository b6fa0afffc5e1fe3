"""Tiny SD-architecture models with seeded random weights and their reference outputs.

Run by hand (never by CI):
    pip install torch diffusers transformers safetensors
    python3 scripts/make_model_fixtures.py --comfyui /path/to/ComfyUI
Writes Tests/LatentflowModelsTests/Fixtures/:
  - tiny_ldm.safetensors: a single-file checkpoint in the LDM layout (model.diffusion_model.,
    first_stage_model., cond_stage_model.transformer.text_model.), converted from the diffusers /
    transformers models with ComfyUI's own unet_to_diffusers table (UNet) and the VAE table below;
  - reference.safetensors: inputs and outputs of diffusers' UNet2DConditionModel and
    AutoencoderKL and transformers' CLIPTextModel on those weights;
  - tokens.json: ComfyUI's SD1Tokenizer.tokenize_with_weights on tricky prompts.
"""
import json
import os

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from safetensors.torch import save_file
from transformers import CLIPTextConfig, CLIPTextModel

from tiny_models import MODEL_FIXTURES, boot_comfyui, randomize
from tiny_unet_keys import vae_to_ldm

boot_comfyui()
out_dir = MODEL_FIXTURES
import comfy.sd1_clip  # noqa: E402
import comfy.utils  # noqa: E402

torch.manual_seed(1234)


# --- UNet: 2 levels (attention on the first), 1 res block each, context width 32 ---------------
unet = randomize(UNet2DConditionModel(
    sample_size=8, in_channels=4, out_channels=4, block_out_channels=(32, 64), layers_per_block=1,
    down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
    cross_attention_dim=32, attention_head_dim=8, norm_num_groups=32), 0.15)
unet_config = {"num_res_blocks": [1, 1], "channel_mult": [1, 2], "transformer_depth": [1, 0],
               "transformer_depth_output": [1, 1, 0, 0], "transformer_depth_middle": 1}
to_ldm = comfy.utils.unet_to_diffusers(unet_config)  # diffusers key -> LDM key
checkpoint = {}
for key, value in unet.state_dict().items():
    checkpoint["model.diffusion_model." + to_ldm[key]] = value.clone()

x = torch.randn(2, 4, 8, 8)
t = torch.tensor([999.0, 259.0])
context = torch.randn(2, 5, 32)
with torch.no_grad():
    unet_out = unet(x, t, encoder_hidden_states=context).sample

# --- VAE: 2 levels of 32/64 channels ------------------------------------------------------------
vae = randomize(AutoencoderKL(in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 2,
                              up_block_types=("UpDecoderBlock2D",) * 2, block_out_channels=(32, 64),
                              layers_per_block=1, latent_channels=4, norm_num_groups=32), 0.1)


for key, value in vae.state_dict().items():
    ldm = vae_to_ldm(key)
    if ".attn_1." in ldm and value.ndim == 2:
        value = value[:, :, None, None]  # LDM keeps the attention projections as 1x1 convolutions
    checkpoint["first_stage_model." + ldm] = value.clone()

image = torch.rand(1, 3, 16, 16) * 2 - 1
latent = torch.randn(1, 4, 4, 4)
with torch.no_grad():
    vae_mean = vae.encode(image).latent_dist.mean
    vae_decoded = vae.decode(latent).sample

# --- CLIP text model: 3 layers of width 64 (one 64-wide head, as ViT-L), a 1000-token vocabulary ------------------------------
clip = randomize(CLIPTextModel(CLIPTextConfig(vocab_size=1000, hidden_size=64, intermediate_size=128, num_attention_heads=1,
                                              num_hidden_layers=3, max_position_embeddings=77, hidden_act="quick_gelu")), 0.3)
for key, value in clip.state_dict().items():
    if "position_ids" not in key:
        checkpoint["cond_stage_model.transformer.text_model." + key.removeprefix("text_model.")] = value.clone()
tokens = torch.tensor([[49406 % 1000, 5, 17, 999, 3] + [407] * 72, [406, 12, 7, 407] + [407] * 73])
with torch.no_grad():
    clip_out = clip(tokens, output_hidden_states=True)
    clip_last = clip_out.last_hidden_state
    clip_penultimate = clip.final_layer_norm(clip_out.hidden_states[-2])

save_file(checkpoint, os.path.join(out_dir, "tiny_ldm.safetensors"), metadata={"format": "pt"})
save_file({"unet.x": x, "unet.t": t, "unet.context": context, "unet.out": unet_out.contiguous(),
           "vae.image": image, "vae.mean": vae_mean.contiguous(), "vae.latent": latent, "vae.decoded": vae_decoded.contiguous(),
           "clip.tokens": tokens.to(torch.int64), "clip.last": clip_last.contiguous(), "clip.penultimate": clip_penultimate.contiguous()},
          os.path.join(out_dir, "reference.safetensors"))

# --- Tokenizer: ComfyUI's own tokenize_with_weights ---------------------------------------------
tokenizer = comfy.sd1_clip.SD1Tokenizer(embedding_directory=None)
prompts = ["a photo of a cat", "", "A (red:1.3) car, ((sunset)), \\(literal parens\\) and [brackets]",
           "café naïve 東京 emoji 🙂 don't it's 12345 3.14",
           "masterpiece, best quality, " * 12 + "(very long:0.8) prompt that crosses the chunk boundary",
           "(nested (weights:1.5) here:0.9) end", "multiple   spaces\tand\nnewlines", "UPPER Case MiXeD"]
token_cases = []
for prompt in prompts:
    chunks = tokenizer.tokenize_with_weights(prompt)["l"]
    token_cases.append({"prompt": prompt, "chunks": [[[int(t), float(w)] for t, w, *_ in chunk] for chunk in chunks]})
with open(os.path.join(out_dir, "tokens.json"), "w") as f:
    json.dump(token_cases, f, ensure_ascii=False)
print("wrote tiny_ldm.safetensors, reference.safetensors, tokens.json to", os.path.normpath(out_dir))

# --- LoRA files in several formats, and the patched models' outputs ----------------------------
# The reference patches the diffusers / transformers parameters directly (independent of any
# LDM key table): W += strength · ΔW with ComfyUI's formulas.
torch.manual_seed(99)
unet_params = dict(unet.named_parameters())
clip_params = dict(clip.named_parameters())


def lora_pair(weight, rank):
    out_features, in_features = weight.shape[0], weight[0].numel()
    down = torch.randn(rank, *weight.shape[1:]) * 0.3 if weight.ndim == 4 and weight.shape[2] > 1 else torch.randn(rank, in_features) * 0.3
    up = torch.randn(out_features, rank, *([1, 1] if weight.ndim == 4 else [])) * 0.3
    if weight.ndim == 4 and weight.shape[2] == 1:
        down = down.reshape(rank, in_features, 1, 1)
    return up, down


kohya, peft, deltas = {}, {}, {}
targets = [("down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q", 4, 8.0),
           ("down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k", 2, None),
           ("down_blocks.0.attentions.0.proj_in", 4, 4.0),
           ("mid_block.attentions.0.transformer_blocks.0.ff.net.2", 3, 1.5),
           ("up_blocks.1.resnets.0.conv1", 2, 1.0)]  # LoCon: a 3x3 convolution
for name, rank, alpha in targets:
    weight = unet_params[name + ".weight"]
    up, down = lora_pair(weight, rank)
    base = "lora_unet_" + name.replace(".", "_")
    kohya[base + ".lora_up.weight"], kohya[base + ".lora_down.weight"] = up, down
    if alpha is not None:
        kohya[base + ".alpha"] = torch.tensor(alpha)
    scale = (alpha if alpha is not None else rank) / rank
    deltas[name] = scale * (up.flatten(1) @ down.flatten(1)).reshape(weight.shape)
# LoHa on one linear, LoKr on another.
w = unet_params["up_blocks.1.attentions.0.transformer_blocks.0.attn1.to_v.weight"]
w1a, w1b, w2a, w2b = torch.randn(w.shape[0], 2) * 0.3, torch.randn(2, w.shape[1]) * 0.3, torch.randn(w.shape[0], 2) * 0.3, torch.randn(2, w.shape[1]) * 0.3
base = "lora_unet_up_blocks_1_attentions_0_transformer_blocks_0_attn1_to_v"
kohya.update({base + ".hada_w1_a": w1a, base + ".hada_w1_b": w1b, base + ".hada_w2_a": w2a, base + ".hada_w2_b": w2b, base + ".alpha": torch.tensor(1.0)})
deltas["up_blocks.1.attentions.0.transformer_blocks.0.attn1.to_v"] = 0.5 * (w1a @ w1b) * (w2a @ w2b)
w = unet_params["up_blocks.1.attentions.0.transformer_blocks.0.attn2.to_out.0.weight"]
k1, k2a, k2b = torch.randn(4, 4) * 0.3, torch.randn(w.shape[0] // 4, 2) * 0.3, torch.randn(2, w.shape[1] // 4) * 0.3
base = "lora_unet_up_blocks_1_attentions_0_transformer_blocks_0_attn2_to_out_0"
kohya.update({base + ".lokr_w1": k1, base + ".lokr_w2_a": k2a, base + ".lokr_w2_b": k2b, base + ".alpha": torch.tensor(4.0)})
deltas["up_blocks.1.attentions.0.transformer_blocks.0.attn2.to_out.0"] = 2.0 * torch.kron(k1, k2a @ k2b)
clip_deltas = {}
for layer, module in [(0, "self_attn.q_proj"), (2, "mlp.fc1")]:
    weight = clip_params[f"encoder.layers.{layer}.{module}.weight"]
    up, down = lora_pair(weight, 4)
    base = f"lora_te_text_model_encoder_layers_{layer}_{module.replace('.', '_')}"
    kohya[base + ".lora_up.weight"], kohya[base + ".lora_down.weight"], kohya[base + ".alpha"] = up, down, torch.tensor(2.0)
    clip_deltas[f"encoder.layers.{layer}.{module}"] = 0.5 * (up @ down)
kohya["lora_unet_this_module_does_not_exist.lora_up.weight"] = torch.zeros(1, 1)
kohya["lora_unet_this_module_does_not_exist.lora_down.weight"] = torch.zeros(1, 1)
# PEFT / diffusers naming for the same first target, without alpha.
name = "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q"
up, down = lora_pair(unet_params[name + ".weight"], 2)
peft["unet." + name + ".lora_B.weight"], peft["unet." + name + ".lora_A.weight"] = up, down
peft_delta = up @ down

strength_model, strength_clip = 0.8, -0.5
with torch.no_grad():
    originals = {k: v.clone() for k, v in unet_params.items()}
    for name, delta in deltas.items():
        unet_params[name + ".weight"] += strength_model * delta
    unet_lora_out = unet(x, t, encoder_hidden_states=context).sample
    for k, v in originals.items():
        unet_params[k].copy_(v)
    unet_params[name_peft := "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight"] += 1.0 * peft_delta
    unet_peft_out = unet(x, t, encoder_hidden_states=context).sample
    unet_params[name_peft].copy_(originals[name_peft])
    clip_originals = {k: v.clone() for k, v in clip_params.items()}
    for name, delta in clip_deltas.items():
        clip_params[name + ".weight"] += strength_clip * delta
    clip_lora_last = clip(tokens).last_hidden_state
    for k, v in clip_originals.items():
        clip_params[k].copy_(v)

save_file({k: v.contiguous() for k, v in kohya.items()}, os.path.join(out_dir, "lora_kohya.safetensors"))
save_file({k: v.contiguous() for k, v in peft.items()}, os.path.join(out_dir, "lora_peft.safetensors"))
save_file({"unet.kohya_out": unet_lora_out.contiguous(), "unet.peft_out": unet_peft_out.contiguous(), "clip.kohya_last": clip_lora_last.contiguous()},
          os.path.join(out_dir, "lora_reference.safetensors"))
print("wrote lora_kohya.safetensors, lora_peft.safetensors, lora_reference.safetensors")

# --- A diffusers folder (unet/, vae/, text_encoder/ with config.json) and an LCM UNet ----------
folder = os.path.join(out_dir, "tiny_diffusers")
unet.save_pretrained(os.path.join(folder, "unet"), safe_serialization=True)
vae.save_pretrained(os.path.join(folder, "vae"), safe_serialization=True)
clip.save_pretrained(os.path.join(folder, "text_encoder"), safe_serialization=True)
with open(os.path.join(folder, "model_index.json"), "w") as f:
    json.dump({"_class_name": "StableDiffusionPipeline", "unet": ["diffusers", "UNet2DConditionModel"],
               "vae": ["diffusers", "AutoencoderKL"], "text_encoder": ["transformers", "CLIPTextModel"]}, f)

# The LCM-distilled UNet carries a guidance-scale embedding (diffusers time_cond_proj_dim).
torch.manual_seed(5)
lcm_unet = randomize(UNet2DConditionModel(
    sample_size=8, in_channels=4, out_channels=4, block_out_channels=(32, 64), layers_per_block=1,
    down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
    cross_attention_dim=32, attention_head_dim=8, norm_num_groups=32, time_cond_proj_dim=32), 0.15)
# Stored in float16 to keep the fixtures small; the reference runs in float32 on the same
# (float16-rounded) weights.
lcm_unet.half().save_pretrained(os.path.join(out_dir, "tiny_lcm_unet"), safe_serialization=True)
lcm_unet.float()


def guidance_embedding(w, dim):
    """diffusers LatentConsistencyModelPipeline.get_guidance_scale_embedding."""
    w = w * 1000.0
    half = dim // 2
    emb = torch.log(torch.tensor(10000.0)) / (half - 1)
    emb = torch.exp(torch.arange(half, dtype=torch.float32) * -emb)
    emb = w.to(torch.float32)[:, None] * emb[None, :]
    return torch.cat([torch.sin(emb), torch.cos(emb)], dim=1)


guidance = torch.tensor([8.5 - 1, 8.5 - 1])
with torch.no_grad():
    lcm_out = lcm_unet(x, t, encoder_hidden_states=context, timestep_cond=guidance_embedding(guidance, 32)).sample
save_file({"out": lcm_out.contiguous()}, os.path.join(out_dir, "tiny_lcm_reference.safetensors"))

print("wrote tiny_diffusers/, tiny_lcm_unet/, tiny_lcm_reference.safetensors (the SD2 fixtures: make_sd2_fixtures.py)")
