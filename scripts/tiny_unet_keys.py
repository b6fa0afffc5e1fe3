"""The diffusers → LDM key tables of the tiny UNets and VAEs (used by the fixture scripts and shapes_model.py)."""


RESNET = [("norm1", "in_layers.0"), ("conv1", "in_layers.2"), ("time_emb_proj", "emb_layers.1"),
          ("norm2", "out_layers.0"), ("conv2", "out_layers.3"), ("conv_shortcut", "skip_connection")]


def diffusers_to_ldm(key, levels=2, layers=1, attention=(True, False), hint_blocks=6):
    """A diffusers UNet / ControlNet key under its LDM name (ComfyUI's unet_to_diffusers table and
    load_controlnet's controlnet_* renames, restated)."""
    fixed = {"conv_in": "input_blocks.0.0", "time_embedding.linear_1": "time_embed.0",
             "time_embedding.linear_2": "time_embed.2", "time_embedding.cond_proj": "time_embed.cond_proj", "conv_norm_out": "out.0", "conv_out": "out.2",
             "controlnet_mid_block": "middle_block_out.0",
             "controlnet_cond_embedding.conv_in": "input_hint_block.0",
             "controlnet_cond_embedding.conv_out": "input_hint_block.%d" % (2 * (hint_blocks + 1))}
    for k in range(hint_blocks):
        fixed["controlnet_cond_embedding.blocks.%d" % k] = "input_hint_block.%d" % (2 * (k + 1))
    for k in range(16):
        fixed["controlnet_down_blocks.%d" % k] = "zero_convs.%d.0" % k
    for level in range(levels):
        for i in range(layers):
            n = 1 + (layers + 1) * level + i
            for d, l in RESNET:
                fixed["down_blocks.%d.resnets.%d.%s" % (level, i, d)] = "input_blocks.%d.0.%s" % (n, l)
            fixed["down_blocks.%d.attentions.%d" % (level, i)] = "input_blocks.%d.1" % n
        fixed["down_blocks.%d.downsamplers.0.conv" % level] = "input_blocks.%d.0.op" % (1 + (layers + 1) * level + layers)
    for d, l in RESNET:
        fixed["mid_block.resnets.0." + d] = "middle_block.0." + l
        fixed["mid_block.resnets.1." + d] = "middle_block.2." + l
    fixed["mid_block.attentions.0"] = "middle_block.1"
    for x in range(levels):
        level = levels - 1 - x
        for i in range(layers + 1):
            n = (layers + 1) * x + i
            for d, l in RESNET:
                fixed["up_blocks.%d.resnets.%d.%s" % (x, i, d)] = "output_blocks.%d.0.%s" % (n, l)
            fixed["up_blocks.%d.attentions.%d" % (x, i)] = "output_blocks.%d.1" % n
        fixed["up_blocks.%d.upsamplers.0.conv" % x] = "output_blocks.%d.%d.conv" % (
            (layers + 1) * x + layers, 2 if attention[level] else 1)
    parts = key.split(".")
    for cut in range(len(parts), 0, -1):
        prefix = ".".join(parts[:cut])
        if prefix in fixed:
            return ".".join([fixed[prefix]] + parts[cut:])
    raise KeyError(key)


def vae_to_ldm(key, levels=2):
    """diffusers AutoencoderKL keys -> LDM keys (the layout single-file checkpoints use)."""
    k = key
    for old, new in [("conv_norm_out", "norm_out"), ("mid_block.resnets.0", "mid.block_1"), ("mid_block.resnets.1", "mid.block_2"),
                     ("mid_block.attentions.0.group_norm", "mid.attn_1.norm"), ("mid_block.attentions.0.to_q", "mid.attn_1.q"),
                     ("mid_block.attentions.0.to_k", "mid.attn_1.k"), ("mid_block.attentions.0.to_v", "mid.attn_1.v"),
                     ("mid_block.attentions.0.to_out.0", "mid.attn_1.proj_out"), ("conv_shortcut", "nin_shortcut")]:
        k = k.replace(old, new)
    parts = k.split(".")
    if parts[0] == "encoder" and parts[1] == "down_blocks":
        k = ".".join(["encoder", "down", parts[2]] + (["block"] + parts[4:] if parts[3] == "resnets" else ["downsample", "conv"] + parts[6:]))
    if parts[0] == "decoder" and parts[1] == "up_blocks":
        level = str(levels - 1 - int(parts[2]))
        k = ".".join(["decoder", "up", level] + (["block"] + parts[4:] if parts[3] == "resnets" else ["upsample", "conv"] + parts[6:]))
    return k
