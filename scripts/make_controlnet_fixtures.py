"""Tiny ControlNet / T2I-Adapter stand-ins and their reference outputs (run by hand, never by CI).

    pip install torch diffusers kornia==0.8.1 safetensors
    python3 scripts/make_controlnet_fixtures.py

Writes:
  - models/controlnet/latentflow-tiny-controlnet.safetensors: a diffusers ControlNetModel shaped
    like the embedded tiny UNet (random weights, rounded to float16), in the LDM layout
    (`control_model.*`) of the control_v11 files;
  - models/controlnet/latentflow-tiny-t2i-adapter.safetensors: a full T2I-Adapter (TencentARC
    names, float16);
  - Tests/LatentflowModelsTests/Fixtures/controlnet_*.safetensors: the same ControlNet in the
    diffusers layout (float16), a light T2I-Adapter (TencentARC names), the full adapter in the
    diffusers layout, and the reference outputs of diffusers' ControlNetModel, T2IAdapter and
    UNet2DConditionModel (with down/mid residuals and intrablock residuals) on the embedded UNet;
  (the sampling references, Tests/LatentflowNodesTests/Fixtures/controlnet_sampling.safetensors,
  come from ComfyUI itself: scripts/make_controlnet_comfyui_fixtures.py);
  - Tests/LatentflowNodesTests/Fixtures/canny.safetensors: kornia.filters.canny as ComfyUI's Canny
    node calls it (comfy_extras/nodes_canny.py).
"""
import os
import sys

import kornia
import torch
from diffusers import ControlNetModel, T2IAdapter, UNet2DConditionModel
from safetensors.torch import load_file, save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MODELS_FIXTURES = os.path.join(ROOT, "Tests", "LatentflowModelsTests", "Fixtures")
NODES_FIXTURES = os.path.join(ROOT, "Tests", "LatentflowNodesTests", "Fixtures")
torch.manual_seed(2024)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tiny_unet_keys import diffusers_to_ldm  # noqa: E402  (the one key table, shared with make_gligen_fixtures.py)


def randomize(model, scale=0.15):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name and name.endswith("weight"):
                p.copy_(1 + 0.1 * torch.randn_like(p))
            else:
                p.copy_(scale * torch.randn_like(p))
    return model.half().float().eval()  # rounded once: the float16 files hold exactly these weights


# --- the embedded tiny UNet, read into diffusers ---------------------------------------------
kwargs = dict(block_out_channels=(32, 64), layers_per_block=1, down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
              cross_attention_dim=32, attention_head_dim=8, norm_num_groups=32)
unet = UNet2DConditionModel(sample_size=8, in_channels=4, out_channels=4,
                            up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), **kwargs).eval()
tiny = load_file(os.path.join(ROOT, "models", "checkpoints", "latentflow-tiny-sd15.safetensors"))
unet.load_state_dict({k: tiny["model.diffusion_model." + diffusers_to_ldm(k)].float() for k in unet.state_dict()})

# --- ControlNet ---------------------------------------------------------------------------------
controlnet = randomize(ControlNetModel(in_channels=4, conditioning_channels=3,
                                       conditioning_embedding_out_channels=(8, 8, 16, 16), **kwargs))
save_file({"control_model." + diffusers_to_ldm(k): v.half().contiguous() for k, v in controlnet.state_dict().items()},
          os.path.join(ROOT, "models", "controlnet", "latentflow-tiny-controlnet.safetensors"),
          metadata={"description": "Latentflow's tiny test ControlNet (random weights)"})
save_file({k: v.half().contiguous() for k, v in controlnet.state_dict().items()},
          os.path.join(MODELS_FIXTURES, "controlnet_diffusers.safetensors"))

x = torch.randn(2, 4, 8, 8)
t = torch.tensor([999.0, 259.0])
context = torch.randn(2, 5, 32)
hint = torch.rand(2, 3, 64, 64)
ref = {"x": x, "t": t, "context": context, "hint": hint}
with torch.no_grad():
    down, mid = controlnet(x, t, encoder_hidden_states=context, controlnet_cond=hint, return_dict=False)
    for i, d in enumerate(down):
        ref["control.output.%d" % i] = d
    ref["control.middle"] = mid
    ref["unet.controlled"] = unet(x, t, encoder_hidden_states=context, down_block_additional_residuals=[d * 0.7 for d in down],
                                  mid_block_additional_residual=mid * 0.7).sample

# --- T2I-Adapters ---------------------------------------------------------------------------------
full = randomize(T2IAdapter(in_channels=3, channels=[8, 16, 32, 32], num_res_blocks=2, downscale_factor=8,
                            adapter_type="full_adapter"))


def tencentarc_full(key):
    """load_t2i_adapter's prefix_replace, restated."""
    for i in range(4):
        for j in range(2):
            p = "adapter.body.%d.resnets.%d." % (i, j)
            if key.startswith(p):
                return "body.%d." % (i * 2 + j) + key[len(p):]
        p = "adapter.body.%d." % i
        if key.startswith(p):
            return "body.%d." % (i * 2) + key[len(p):]
    return key[len("adapter."):]


save_file({tencentarc_full(k): v.half().contiguous() for k, v in full.state_dict().items()},
          os.path.join(ROOT, "models", "controlnet", "latentflow-tiny-t2i-adapter.safetensors"),
          metadata={"description": "Latentflow's tiny test T2I-Adapter (random weights)"})
save_file({k: v.contiguous() for k, v in full.state_dict().items()},
          os.path.join(MODELS_FIXTURES, "controlnet_t2i_full_diffusers.safetensors"))
light = randomize(T2IAdapter(in_channels=3, channels=[8, 16, 32], num_res_blocks=4, downscale_factor=8,
                             adapter_type="light_adapter"))
save_file({k.replace("adapter.", "", 1).replace(".resnets.", ".body."): v.contiguous() for k, v in light.state_dict().items()},
          os.path.join(MODELS_FIXTURES, "controlnet_t2i_light.safetensors"))
adapter_hint = torch.rand(1, 3, 64, 64)
ref["adapter.hint"] = adapter_hint
with torch.no_grad():
    for name, model in [("full", full), ("light", light)]:
        for i, f in enumerate(model(adapter_hint)):
            ref["adapter.%s.%d" % (name, i)] = f
    # Intrablock residuals on the tiny UNet: after level 0's last block and after level 1's.
    r0, r1 = torch.randn(2, 32, 8, 8), torch.randn(2, 64, 4, 4)
    ref["unet.intrablock.0"], ref["unet.intrablock.1"] = r0, r1
    ref["unet.intrablock"] = unet(x, t, encoder_hidden_states=context,
                                  down_intrablock_additional_residuals=[r0.clone(), r1.clone()]).sample
save_file({k: v.contiguous() for k, v in ref.items()}, os.path.join(MODELS_FIXTURES, "controlnet_reference.safetensors"))

# The ControlNet sampling references (strength, timestep range, chaining, KSampler) are recorded
# from ComfyUI's own code by scripts/make_controlnet_comfyui_fixtures.py. These are the draws the
# torch transcription that stood here made, so the Canny image below stays the committed one.
torch.randn(1, 5, 32), torch.randn(1, 5, 32), torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64), torch.randn(1, 4, 8, 8)

# --- Canny ---------------------------------------------------------------------------------------
yy, xx = torch.meshgrid(torch.arange(24.0), torch.arange(32.0), indexing="ij")
image = torch.stack([((xx - 12) ** 2 + (yy - 10) ** 2 < 60).float() * 0.8 + 0.1,
                     (xx > 20).float() * 0.6 + 0.2 * torch.sin(yy / 3),
                     torch.rand(24, 32) * 0.3], -1)[None].clamp(0, 1)  # [1, H, W, 3], an IMAGE
canny = {"image": image}
for low, high in [(0.4, 0.8), (0.35, 0.8), (0.1, 0.2)]:
    edges = kornia.filters.canny(image.movedim(-1, 1), low, high)[1].repeat(1, 3, 1, 1).movedim(1, -1)
    canny["edges.%g.%g" % (low, high)] = edges
save_file({k: v.contiguous() for k, v in canny.items()}, os.path.join(NODES_FIXTURES, "canny.safetensors"))
print("written")
