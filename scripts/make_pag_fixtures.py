"""The tiny random UNet's output with Perturbed-Attention Guidance's patch: the middle block's
self-attention replaced by identity (its output is to_out(to_v(x)), ComfyUI's `perturbed_attention`
returning v), computed by diffusers' UNet2DConditionModel with an attention processor that does so.

Run by hand (never by CI), after scripts/make_model_fixtures.py:
    /work/venv-torch/bin/python scripts/make_pag_fixtures.py --comfyui /path/to/ComfyUI
(ComfyUI for its unet_to_diffusers key table only.) Reads Tests/LatentflowModelsTests/Fixtures/tiny_ldm.safetensors
and reference.safetensors; writes pag_reference.safetensors next to them.
"""
import os

import torch
from diffusers import UNet2DConditionModel
from safetensors.torch import load_file, save_file

from tiny_models import MODEL_FIXTURES, boot_comfyui

boot_comfyui()
import comfy.utils  # noqa: E402

torch.set_num_threads(1)
checkpoint = load_file(os.path.join(MODEL_FIXTURES, "tiny_ldm.safetensors"))
reference = load_file(os.path.join(MODEL_FIXTURES, "reference.safetensors"))
# The same configuration as make_model_fixtures.py's tiny UNet.
unet = UNet2DConditionModel(
    sample_size=8, in_channels=4, out_channels=4, block_out_channels=(32, 64), layers_per_block=1,
    down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
    cross_attention_dim=32, attention_head_dim=8, norm_num_groups=32).eval()
unet_config = {"num_res_blocks": [1, 1], "channel_mult": [1, 2], "transformer_depth": [1, 0],
               "transformer_depth_output": [1, 1, 0, 0], "transformer_depth_middle": 1}
to_ldm = comfy.utils.unet_to_diffusers(unet_config)
unet.load_state_dict({key: checkpoint["model.diffusion_model." + to_ldm[key]] for key in unet.state_dict()})


class IdentitySelfAttention:
    """Attention whose output is each token's own value: to_out(to_v(x))."""
    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, *a, **k):
        assert encoder_hidden_states is None  # self-attention only
        return attn.to_out[1](attn.to_out[0](attn.to_v(hidden_states)))


x, t, context = reference["unet.x"], reference["unet.t"], reference["unet.context"]
with torch.no_grad():
    plain = unet(x, t, encoder_hidden_states=context).sample
    assert (plain - reference["unet.out"]).abs().max() < 1e-5, "the weights did not load as make_model_fixtures made them"
    for block in unet.mid_block.attentions[0].transformer_blocks:
        block.attn1.set_processor(IdentitySelfAttention())
    perturbed = unet(x, t, encoder_hidden_states=context).sample
print("PAG changes the output by", float((perturbed - plain).abs().max()), "of", float(plain.abs().max()))
save_file({"unet.pag_out": perturbed.contiguous()}, os.path.join(MODEL_FIXTURES, "pag_reference.safetensors"))
print("wrote", os.path.normpath(os.path.join(MODEL_FIXTURES, "pag_reference.safetensors")))
