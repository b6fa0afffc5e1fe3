"""A tiny GLIGEN box model and its reference outputs (run by hand, never by CI).

    pip install torch diffusers safetensors
    python3 scripts/make_gligen_fixtures.py

Writes:
  - models/gligen/latentflow-tiny-gligen.safetensors: gated self-attentions ("fusers") for the
    four spatial transformers of the embedded tiny UNet and a position net for its 32-wide CLIP,
    random weights rounded to float16, in the layout of ComfyUI's pruned SD1.x GLIGEN files
    (`input_blocks.N.1.transformer_blocks.0.fuser.*`, `middle_block.1...`, `output_blocks.N.1...`,
    `position_net.*`; comfy/gligen.py load_gligen);
  - Tests/LatentflowModelsTests/Fixtures/gligen_reference.safetensors: diffusers'
    UNet2DConditionModel(attention_type="gated") on the tiny UNet's weights plus these, with
    boxes built as ComfyUI's Gligen.set_position builds them from GLIGENTextBoxApply's
    (cond_pooled, h // 8, w // 8, y // 8, x // 8) tuples (transcribed below);
  - Tests/LatentflowNodesTests/Fixtures/gligen_sampling.safetensors: the CFG denoised prediction
    with a boxed positive and a plain negative (comfy/samplers.py get_area_and_mult puts the
    gligen patch on the boxed cond's model call only; cfg_function).
"""
import os
import sys

import torch
from diffusers import UNet2DConditionModel
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tiny_unet_keys import diffusers_to_ldm  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MODELS_FIXTURES = os.path.join(ROOT, "Tests", "LatentflowModelsTests", "Fixtures")
NODES_FIXTURES = os.path.join(ROOT, "Tests", "LatentflowNodesTests", "Fixtures")
torch.manual_seed(2025)

kwargs = dict(block_out_channels=(32, 64), layers_per_block=1, down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
              cross_attention_dim=32, attention_head_dim=8, norm_num_groups=32)
unet = UNet2DConditionModel(sample_size=8, in_channels=4, out_channels=4, up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
                            attention_type="gated", **kwargs).eval()
tiny = load_file(os.path.join(ROOT, "models", "checkpoints", "latentflow-tiny-sd15.safetensors"))


def is_gligen(key):
    return ".fuser." in key or key.startswith("position_net.")


state = unet.state_dict()
base = {k: tiny["model.diffusion_model." + diffusers_to_ldm(k)].float() for k in state if not is_gligen(k)}
gligen = {}
for k, v in state.items():
    if not is_gligen(k):
        continue
    if k.endswith(("alpha_attn", "alpha_dense")):
        w = torch.empty(()).uniform_(0.4, 1.2) * (1 if torch.rand(()) < 0.7 else -1)
    elif "norm" in k and k.endswith("weight"):
        w = 1 + 0.1 * torch.randn_like(v)
    elif "null_" in k:
        w = 0.5 * torch.randn_like(v)
    else:
        w = 0.15 * torch.randn_like(v)
    gligen[k] = w.half().float()  # rounded once: the float16 file holds exactly these weights
unet.load_state_dict({**base, **gligen})

comfy_layout = {(k if k.startswith("position_net.") else diffusers_to_ldm(k)): v.half().contiguous() for k, v in gligen.items()}
save_file(comfy_layout, os.path.join(ROOT, "models", "gligen", "latentflow-tiny-gligen.safetensors"),
          metadata={"description": "Latentflow's tiny test GLIGEN (random weights) for latentflow-tiny-sd15"})

MAX_OBJS = 30


def set_position(latent_shape, position_params):
    """comfy/gligen.py Gligen.set_position: boxes as fractions of the latent, 30 slots, masks."""
    batch, _, h, w = latent_shape
    masks = torch.zeros([MAX_OBJS])
    boxes, conds = [], []
    for p in position_params:
        x1, y1 = p[4] / w, p[3] / h
        x2, y2 = (p[4] + p[2]) / w, (p[3] + p[1]) / h
        masks[len(boxes)] = 1.0
        boxes.append(torch.tensor((x1, y1, x2, y2)).unsqueeze(0))
        conds.append(p[0])
    boxes.append(torch.zeros([MAX_OBJS - len(position_params), 4]))
    conds.append(torch.zeros([MAX_OBJS - len(position_params), 32]))
    return {"boxes": torch.cat(boxes).unsqueeze(0).repeat(batch, 1, 1), "masks": masks.unsqueeze(0).repeat(batch, 1),
            "positive_embeddings": torch.cat(conds).unsqueeze(0).repeat(batch, 1, 1)}


ref = {}
pooled = torch.randn(3, 32)
ref["pooled"] = pooled
# (embedding index, h, w, y, x) in latent pixels; the last box reaches past the latent's edge.
boxes = torch.tensor([[0, 3, 2, 1, 4], [1, 8, 8, 0, 0], [2, 5, 6, 4, 7]], dtype=torch.int32)
ref["boxes"] = boxes


def params(rows):
    return [(pooled[int(r[0])][None], int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows]


cases = {"square": (torch.randn(2, 4, 8, 8), torch.tensor([999.0, 259.0]), torch.randn(2, 5, 32), boxes[:2]),
         "wide": (torch.randn(1, 4, 8, 12), torch.tensor([500.0]), torch.randn(1, 5, 32), boxes)}
with torch.no_grad():
    for name, (x, t, ctx, rows) in cases.items():
        ref[name + ".x"], ref[name + ".t"], ref[name + ".context"] = x, t, ctx
        gl = set_position(x.shape, params(rows))
        ref[name + ".objects"] = unet.position_net(**gl)[0:1]
        ref[name + ".output"] = unet(x, t, encoder_hidden_states=ctx, cross_attention_kwargs={"gligen": gl}).sample
        ref[name + ".plain"] = unet(x, t, encoder_hidden_states=ctx).sample

    # CFG with the boxes on the positive only (ModelSamplingDiscrete eps, as the ControlNet script).
    betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2
    alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
    sigmas = (((1 - alphas_cumprod) / alphas_cumprod) ** 0.5).float()
    sigma = float(sigmas[700])
    t = (torch.tensor(sigma).log() - sigmas.log()).abs().argmin().float()
    positive, negative = torch.randn(1, 5, 32), torch.randn(1, 5, 32)
    x = torch.randn(1, 4, 8, 8) * (sigma ** 2 + 1) ** 0.5
    x_in = x / (sigma ** 2 + 1) ** 0.5
    gl = set_position(x.shape, params(boxes[:2]))
    cond = x - sigma * unet(x_in, t[None], encoder_hidden_states=positive, cross_attention_kwargs={"gligen": gl}).sample
    uncond = x - sigma * unet(x_in, t[None], encoder_hidden_states=negative).sample
    cfg = 4.0
    # A whole KSampler run (euler, normal, 4 steps, seed 42) on an empty 64x64 latent, transcribing
    # comfy/samplers.py normal_scheduler, comfy/sample.py prepare_noise, EPS.noise_scaling (max
    # denoise), k_diffusion sample_euler and process_latent_out (1 / 0.18215).
    log_sigmas = sigmas.log()

    def timestep(sig):
        return (torch.tensor(sig).log() - log_sigmas).abs().argmin().float()

    def sigma_of(t):
        low, high, w = t.floor().long(), t.ceil().long(), t.frac()
        return float(((1 - w) * log_sigmas[low] + w * log_sigmas[high]).exp())

    steps, seed = 4, 42
    schedule = [sigma_of(t) for t in torch.linspace(float(timestep(float(sigmas[-1]))), float(timestep(float(sigmas[0]))), steps)]
    schedule.append(0.0)
    noise = torch.randn([1, 4, 8, 8], generator=torch.manual_seed(seed))
    sample = noise * (1.0 + schedule[0] ** 2) ** 0.5
    for i in range(steps):
        sig = schedule[i]
        s_in = sample / (sig ** 2 + 1) ** 0.5
        ts = timestep(sig)[None]
        c = sample - sig * unet(s_in, ts, encoder_hidden_states=positive, cross_attention_kwargs={"gligen": gl}).sample
        u = sample - sig * unet(s_in, ts, encoder_hidden_states=negative).sample
        den = u + (c - u) * cfg
        sample = sample + (sample - den) / sig * (schedule[i + 1] - sig)
    ksampler = sample / 0.18215
    sampling = {"ksampler": ksampler, "x": x, "sigma": torch.tensor([sigma]), "positive": positive, "negative": negative, "pooled": pooled,
                "boxes": boxes, "denoised": uncond + (cond - uncond) * cfg}
save_file({k: v.contiguous() for k, v in ref.items()}, os.path.join(MODELS_FIXTURES, "gligen_reference.safetensors"))
save_file({k: v.contiguous() for k, v in sampling.items()}, os.path.join(NODES_FIXTURES, "gligen_sampling.safetensors"))
print("written")
