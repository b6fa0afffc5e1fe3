"""The diffusers → LDM key table of the embedded tiny UNet (used by make_controlnet_fixtures.py and make_gligen_fixtures.py), for fixture scripts."""


RESNET = [("norm1", "in_layers.0"), ("conv1", "in_layers.2"), ("time_emb_proj", "emb_layers.1"),
          ("norm2", "out_layers.0"), ("conv2", "out_layers.3"), ("conv_shortcut", "skip_connection")]


def diffusers_to_ldm(key, levels=2, layers=1, attention=(True, False), hint_blocks=6):
    """A diffusers UNet / ControlNet key under its LDM name (ComfyUI's unet_to_diffusers table and
    load_controlnet's controlnet_* renames, restated)."""
    fixed = {"conv_in": "input_blocks.0.0", "time_embedding.linear_1": "time_embed.0",
             "time_embedding.linear_2": "time_embed.2", "conv_norm_out": "out.0", "conv_out": "out.2",
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


