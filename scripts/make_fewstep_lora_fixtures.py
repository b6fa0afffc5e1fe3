"""Stand-ins, in their real key layouts, for the few-step LoRAs of SD1.5, sized for the embedded tiny UNet.

Run by hand (never by CI) in a venv with torch, diffusers and safetensors:
    python3 scripts/make_fewstep_lora_fixtures.py
Writes (seeded random weights, float16, small):
  - models/loras/latentflow-tiny-hyper-sd15-lora.safetensors: Hyper-SD's SD1.5 LoRAs
    (ByteDance/Hyper-SD `Hyper-SD15-{1step,2steps,4steps,8steps}-lora.safetensors`) are kohya-format
    files over diffusers module names: `lora_unet_<module with dots as underscores>` with
    `.lora_down.weight`, `.lora_up.weight` and `.alpha`, as diffusers' `convert_state_dict_to_kohya`
    writes them and ComfyUI's `model_lora_keys_unet` (its `lora_unet_` + unet_to_diffusers names)
    reads them. Every Linear and Conv2d of the UNet gets one, so a test can check that none is
    left unmatched.
  - models/loras/latentflow-tiny-tcd-lora.safetensors: TCD's SD1.5 LoRA (h1t/TCD-SD15-LoRA
    `pytorch_lora_weights.safetensors`) comes from diffusers' LoRA training scripts:
    PEFT names under `unet.` (`unet.<module>.lora_A.weight` / `.lora_B.weight`), on the
    attention, projection and feed-forward layers.
"""
import os

import torch
from diffusers import UNet2DConditionModel
from safetensors.torch import save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
LORAS = os.path.join(ROOT, "models", "loras")

# The embedded tiny UNet's architecture (TinyModelFactory.unet), in diffusers' terms.
unet = UNet2DConditionModel(
    sample_size=8, in_channels=4, out_channels=4, block_out_channels=(32, 64), layers_per_block=1,
    down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
    cross_attention_dim=32, attention_head_dim=8, norm_num_groups=32)
generator = torch.Generator().manual_seed(2404)
RANK = 2


def pair(module):
    """(up, down) for a Linear or Conv2d, LoRA-shaped (a 3x3 conv's down is 3x3, its up 1x1)."""
    if isinstance(module, torch.nn.Linear):
        down = torch.randn(RANK, module.in_features, generator=generator) * 0.05
        up = torch.randn(module.out_features, RANK, generator=generator) * 0.05
    else:
        down = torch.randn(RANK, module.in_channels, *module.kernel_size, generator=generator) * 0.05
        up = torch.randn(module.out_channels, RANK, 1, 1, generator=generator) * 0.05
    return up.half(), down.half()


hyper, tcd = {}, {}
for name, module in unet.named_modules():
    if not isinstance(module, (torch.nn.Linear, torch.nn.Conv2d)):
        continue
    up, down = pair(module)
    kohya = "lora_unet_" + name.replace(".", "_")
    hyper[kohya + ".lora_up.weight"], hyper[kohya + ".lora_down.weight"] = up, down
    hyper[kohya + ".alpha"] = torch.tensor(float(RANK)).half()
    if "attentions" in name and isinstance(module, torch.nn.Linear):
        tcd["unet." + name + ".lora_B.weight"], tcd["unet." + name + ".lora_A.weight"] = pair(module)

for file, tensors in [("latentflow-tiny-hyper-sd15-lora.safetensors", hyper), ("latentflow-tiny-tcd-lora.safetensors", tcd)]:
    path = os.path.join(LORAS, file)
    save_file({k: v.contiguous() for k, v in tensors.items()}, path)
    modules = len({k.rsplit(".", 2)[0] for k in tensors})
    print(f"wrote {os.path.normpath(path)}: {len(tensors)} tensors over {modules} modules")
