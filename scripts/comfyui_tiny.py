"""Loads Latentflow's tiny SD1.5-layout stand-ins into a booted ComfyUI (run by hand, never by CI).

ComfyUI picks a model family by matching the detected UNet config against
`comfy.supported_models.models`; SD15 wants model_channels 320 and context_dim 768, so the tiny
models (model_channels 32, context_dim 32) match nothing. `register_tiny_sd15()` puts a subclass of
ComfyUI's own SD15 at the front of that list whose only change is the config it matches: latent
format, EPS sampling, ModelSamplingDiscrete, BaseModel (and its inpaint `concat` conditioning) all
stay ComfyUI's. The diffusers-layout UNets go through ComfyUI's own key table
(`comfy.utils.unet_to_diffusers`) and the VAE through `comfy.sd.VAE` with the tiny encoder/decoder
config (ComfyUI's VAE detection hard-codes SD's 128-channel, 8x config). Call after
`comfyui_boot.boot`.
"""
import json
import os

from safetensors.torch import load_file


def register_tiny_sd15(context_dim=32, model_channels=32):
    import comfy.supported_models as supported

    class TinySD15(supported.SD15):
        unet_config = {"context_dim": context_dim, "model_channels": model_channels, "use_linear_in_transformer": False,
                       "adm_in_channels": None, "use_temporal_attention": False}

    if not any(m.__name__ == "TinySD15" for m in supported.models):
        supported.models.insert(0, TinySD15)
    return TinySD15


def load_checkpoint(path):
    """The UNet of an LDM-layout checkpoint, as ComfyUI's CheckpointLoaderSimple builds it."""
    import comfy.sd
    register_tiny_sd15()
    return comfy.sd.load_checkpoint_guess_config(path, output_vae=False, output_clip=False)[0]


def load_diffusers_unet(folder):
    """A diffusers UNet2DConditionModel folder, renamed by ComfyUI's unet_to_diffusers table and
    loaded as ComfyUI's load_diffusion_model_state_dict loads an LDM-layout UNet."""
    import comfy.sd
    import comfy.utils
    config = json.load(open(os.path.join(folder, "config.json")))
    diffusers_sd = load_file(os.path.join(folder, "diffusion_pytorch_model.safetensors"))
    levels = len(config["block_out_channels"])
    unet_config = {"num_res_blocks": [config["layers_per_block"]] * levels,
                   "channel_mult": [c // config["block_out_channels"][0] for c in config["block_out_channels"]],
                   "transformer_depth": [1 if t.startswith("CrossAttn") else 0 for t in config["down_block_types"]
                                         for _ in range(config["layers_per_block"])],
                   "transformer_depth_output": [], "transformer_depth_middle": 1}
    for t in reversed(config["up_block_types"]):
        unet_config["transformer_depth_output"] += [1 if t.startswith("CrossAttn") else 0] * (config["layers_per_block"] + 1)
    table = comfy.utils.unet_to_diffusers(unet_config)
    sd = {ldm: diffusers_sd[d] for d, ldm in table.items() if d in diffusers_sd}
    missing = set(diffusers_sd) - set(table)
    assert not missing, missing
    register_tiny_sd15(config["cross_attention_dim"], config["block_out_channels"][0])
    return comfy.sd.load_diffusion_model_state_dict(sd)


def load_diffusers_vae(folder):
    """comfy.sd.VAE on a diffusers AutoencoderKL folder (ComfyUI converts the keys itself)."""
    import comfy.diffusers_convert
    import comfy.sd
    config = json.load(open(os.path.join(folder, "config.json")))
    channels = config["block_out_channels"]
    # ComfyUI's own diffusers-to-LDM VAE table numbers the decoder's levels for SD's four
    # (`up_blocks.i` -> `up.{3-i}`); the tiny VAE has len(channels), so its levels are renumbered after.
    sd = comfy.diffusers_convert.convert_vae_state_dict(
        load_file(os.path.join(folder, "diffusion_pytorch_model.safetensors")))
    shift = 4 - len(channels)
    sd = {renumber_up(k, shift): v for k, v in sd.items()}
    ddconfig = {"double_z": True, "z_channels": config["latent_channels"], "resolution": 256, "in_channels": 3,
                "out_ch": 3, "ch": channels[0], "ch_mult": [c // channels[0] for c in channels],
                "num_res_blocks": config["layers_per_block"], "attn_resolutions": [], "dropout": 0.0}
    vae = comfy.sd.VAE(sd=sd, config={"params": {"ddconfig": ddconfig, "embed_dim": config["latent_channels"]}})
    # The ratio ComfyUI's VAE takes for SD's 8x models; the tiny one halves the size once per level after the first.
    vae.downscale_ratio = vae.upscale_ratio = 2 ** (len(channels) - 1)
    return vae


def load_checkpoint_vae(path):
    """comfy.sd.VAE on an LDM checkpoint's `first_stage_model.*` weights (as load_checkpoint_guess_config
    cuts them out), with the encoder/decoder config read from the weights' shapes."""
    import comfy.sd
    sd = {k[len("first_stage_model."):]: v for k, v in load_file(path).items() if k.startswith("first_stage_model.")}
    ch = sd["encoder.conv_in.weight"].shape[0]
    levels = 1 + max(int(k.split(".")[2]) for k in sd if k.startswith("encoder.down."))
    ch_mult = [sd[f"encoder.down.{i}.block.0.conv1.weight"].shape[0] // ch for i in range(levels)]
    blocks = 1 + max(int(k.split(".")[4]) for k in sd if k.startswith("encoder.down.0.block."))
    z = sd["decoder.conv_in.weight"].shape[1]
    ddconfig = {"double_z": True, "z_channels": z, "resolution": 256, "in_channels": 3, "out_ch": 3, "ch": ch,
                "ch_mult": ch_mult, "num_res_blocks": blocks, "attn_resolutions": [], "dropout": 0.0}
    vae = comfy.sd.VAE(sd=sd, config={"params": {"ddconfig": ddconfig, "embed_dim": sd["post_quant_conv.weight"].shape[1]}})
    vae.downscale_ratio = vae.upscale_ratio = 2 ** (levels - 1)
    return vae


def renumber_up(key, shift):
    if key.startswith("decoder.up."):
        parts = key.split(".")
        parts[2] = str(int(parts[2]) - shift)
        return ".".join(parts)
    return key
