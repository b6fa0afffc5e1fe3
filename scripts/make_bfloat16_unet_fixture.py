"""Writes Tests/LatentflowModelsTests/Fixtures/bfloat16_unet.safetensors: diffusers' tiny UNet
(the one of make_model_fixtures.py, its weights read back from tiny_ldm.safetensors) run in
bfloat16 (`unet.to(torch.bfloat16)` on the input, timesteps and context of reference.safetensors),
for the test that bounds Latentflow's bfloat16 UNet (`--bf16-unet`) by the error PyTorch's own
bfloat16 UNet makes against the float32 one.

Run by hand (never by CI), after make_model_fixtures.py: python3 scripts/make_bfloat16_unet_fixture.py
"""
import os

import torch
from diffusers import UNet2DConditionModel
from safetensors.torch import load_file, save_file

from tiny_models import MODEL_FIXTURES
from tiny_unet_keys import diffusers_to_ldm

checkpoint = load_file(os.path.join(MODEL_FIXTURES, "tiny_ldm.safetensors"))
reference = load_file(os.path.join(MODEL_FIXTURES, "reference.safetensors"))
unet = UNet2DConditionModel(
    sample_size=8, in_channels=4, out_channels=4, block_out_channels=(32, 64), layers_per_block=1,
    down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
    cross_attention_dim=32, attention_head_dim=8, norm_num_groups=32).eval()
state = {key: checkpoint["model.diffusion_model." + diffusers_to_ldm(key)] for key in unet.state_dict()}
unet.load_state_dict(state)
x, t, context = reference["unet.x"], reference["unet.t"], reference["unet.context"]
with torch.no_grad():
    float32 = unet(x, t, encoder_hidden_states=context).sample
    # The weights read back are those of the reference: the float32 output is the fixture's.
    assert torch.allclose(float32, reference["unet.out"], rtol=0, atol=1e-5), (float32 - reference["unet.out"]).abs().max()
    unet.to(torch.bfloat16)
    bfloat16 = unet(x.to(torch.bfloat16), t, encoder_hidden_states=context.to(torch.bfloat16)).sample.float()
error = ((bfloat16 - float32).norm() / float32.norm()).item()
print("PyTorch bfloat16 UNet against float32: relative error", error)
out = os.path.join(MODEL_FIXTURES, "bfloat16_unet.safetensors")
save_file({"unet.out_bfloat16": bfloat16.contiguous()}, out)
print("wrote", out)
