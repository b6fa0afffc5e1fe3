#!/usr/bin/env python3
"""unCLIPCheckpointLoader references from ComfyUI v0.3.64's own code (run by hand, never by CI).

    /work/venv-torch/bin/python scripts/make_unclip_checkpoint_fixtures.py /work/comfy0364 /work/cextra

A tiny SD2.1-unCLIP-layout single file: the tiny SD1.5 checkpoint, the `label_emb.*` of
LatentflowModelsTests/Fixtures/unet_adm.safetensors (as scripts/make_unclip_sampling_fixtures.py),
a tiny random CLIP image tower in OpenCLIP's layout under `embedder.model.visual.` (fused
`attn.in_proj_*`, `proj` as `x @ proj`, `class_embedding`, `positional_embedding`, `ln_pre`/`ln_post`)
and ComfyUI's own noise-augmentor buffers under `noise_augmentor.` (which loaders ignore). The tower
and the buffers are written to Tests/LatentflowNodesTests/Fixtures/unclip_checkpoint.safetensors
(`file.*`; the test puts the same file together from them and the two committed files), with:

- ComfyUI's `comfy.sd.load_checkpoint_guess_config(..., output_clipvision=True)` (what
  nodes.unCLIPCheckpointLoader calls; output_vae/output_clip False, since ComfyUI's VAE and text
  encoder detection hard-code SD's sizes) on that file, then nodes.CLIPVisionEncode (crop center) of
  `image` → `image_embeds`, `last_hidden_state`; nodes.unCLIPConditioning (strength 0.8, noise
  augmentation 0.2) on the positive and nodes.KSampler (seed 11, 8 steps, cfg 4, euler, normal, 64x64
  EmptyLatentImage) → `ksampler`;
- `ksampler.plain`: the same KSampler without the unCLIP conditioning (so the test sees it matters);
- `standalone.image_embeds`: the tower alone as an OpenCLIP-layout `visual.*` file through ComfyUI's
  `comfy.clip_vision.load` (CLIPVisionLoader's path) and CLIPVisionEncode.

Two stand-ins, both only the sizes ComfyUI matches a file by: TinyUnclip (ComfyUI's SD21UnclipL
with the tiny UNet config, as make_unclip_sampling_fixtures.py), and the CLIP vision config, which
ComfyUI's `load_clipvision_from_sd` picks by depth (23+ layers); the tiny tower's config is handed
to ComfyUI's own ClipVisionModel after ComfyUI's own `convert_to_transformers`.
"""
import json
import os
import re
import sys

import torch
from safetensors.torch import load_file, save_file

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(SCRIPTS, "..")
OUT = os.path.join(ROOT, "Tests", "LatentflowNodesTests", "Fixtures", "unclip_checkpoint.safetensors")
PREFIX = "embedder.model.visual."
VISION = {"hidden_size": 64, "image_size": 16, "intermediate_size": 128, "num_attention_heads": 1,
          "num_channels": 3, "num_hidden_layers": 2, "model_type": "clip_vision_model", "patch_size": 4,
          "projection_dim": 16, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5}


def openclip_tower(generator):
    """Random OpenCLIP-layout visual weights of the VISION size (every LayerNorm and bias random too)."""
    width, mlp, patch, proj = VISION["hidden_size"], VISION["intermediate_size"], VISION["patch_size"], VISION["projection_dim"]
    positions = (VISION["image_size"] // patch) ** 2 + 1

    def rand(*shape, scale=0.05, offset=0.0):
        return torch.randn(*shape, generator=generator) * scale + offset

    sd = {"class_embedding": rand(width, scale=0.5), "conv1.weight": rand(width, 3, patch, patch, scale=0.2),
          "positional_embedding": rand(positions, width, scale=0.3),
          "ln_pre.weight": rand(width, offset=1.0), "ln_pre.bias": rand(width),
          "ln_post.weight": rand(width, offset=1.0), "ln_post.bias": rand(width), "proj": rand(width, proj, scale=0.2)}
    for i in range(VISION["num_hidden_layers"]):
        b = "transformer.resblocks.%d." % i
        sd.update({b + "ln_1.weight": rand(width, offset=1.0), b + "ln_1.bias": rand(width),
                   b + "attn.in_proj_weight": rand(3 * width, width, scale=0.15), b + "attn.in_proj_bias": rand(3 * width),
                   b + "attn.out_proj.weight": rand(width, width, scale=0.15), b + "attn.out_proj.bias": rand(width),
                   b + "ln_2.weight": rand(width, offset=1.0), b + "ln_2.bias": rand(width),
                   b + "mlp.c_fc.weight": rand(mlp, width, scale=0.15), b + "mlp.c_fc.bias": rand(mlp),
                   b + "mlp.c_proj.weight": rand(width, mlp, scale=0.15), b + "mlp.c_proj.bias": rand(width)})
    return {PREFIX + k: v for k, v in sd.items()}


def main():
    comfyui, extras = sys.argv[1], sys.argv[2:]
    sys.path.insert(0, SCRIPTS)
    from comfyui_boot import boot
    boot(comfyui)
    import utils.install_util  # noqa: F401  (ComfyUI's own `utils` before the extras can shadow it)
    sys.path += extras
    torch.set_num_threads(1)
    torch.set_grad_enabled(False)
    import comfy.clip_vision
    import comfy.sd
    import comfy.supported_models as supported
    import comfyui_version
    import nodes
    from comfy.ldm.modules.encoders.noise_aug_modules import CLIPEmbeddingNoiseAugmentation

    class TinyUnclip(supported.SD21UnclipL):
        unet_config = {"context_dim": 32, "model_channels": 32, "use_linear_in_transformer": False,
                       "adm_in_channels": 32, "use_temporal_attention": False}
        noise_aug_config = {"noise_schedule_config": {"timesteps": 1000, "beta_schedule": "squaredcos_cap_v2"},
                            "timestep_dim": 16}
        unet_extra_config = {"num_heads": 8, "num_head_channels": -1}  # SD1's 8 heads, as the tiny UNet

    supported.models.insert(0, TinyUnclip)
    config_path = "/tmp/latentflow-tiny-clip-vision.json"
    json.dump(VISION, open(config_path, "w"))
    converted = {}

    def load_tiny_clipvision(sd, prefix="", convert_keys=False):
        sd = comfy.clip_vision.convert_to_transformers(sd, prefix) if convert_keys else sd
        converted.update({k: v for k, v in sd.items() if k.startswith(("vision_model.", "visual_projection."))})
        clip = comfy.clip_vision.ClipVisionModel(config_path)
        missing, _ = clip.load_sd(sd)
        assert not missing, missing
        return clip

    comfy.clip_vision.load_clipvision_from_sd = load_tiny_clipvision

    generator = torch.Generator().manual_seed(2052)
    tower = openclip_tower(generator)
    augmentor = {"noise_augmentor." + k: v for k, v in
                 CLIPEmbeddingNoiseAugmentation(**TinyUnclip.noise_aug_config).state_dict().items()}
    weights = load_file(os.path.join(ROOT, "models", "checkpoints", "latentflow-tiny-sd15.safetensors"))
    weights.update({k: v for k, v in load_file(os.path.join(ROOT, "Tests", "LatentflowModelsTests", "Fixtures",
                                                            "unet_adm.safetensors")).items() if k.startswith("model.")})
    weights.update(tower)
    weights.update(augmentor)
    path = "/tmp/latentflow-tiny-unclip-checkpoint.safetensors"
    save_file({k: v.float().contiguous() for k, v in weights.items()}, path)

    model, _, _, clip_vision = comfy.sd.load_checkpoint_guess_config(
        path, output_vae=False, output_clip=False, output_clipvision=True)
    assert type(model.model).__name__ == "SD21UNCLIP", type(model.model)
    assert clip_vision is not None
    fused = sum(1 for k in tower if ".attn.in_proj_" in k)
    assert len(converted) == len(tower) + 2 * fused, (len(converted), len(tower))  # each fused one → q, k, v
    print("CLIP vision dtype", clip_vision.dtype)

    # At the tower's own size, so CLIPVisionEncode's resize cannot move a pixel across an 8-bit
    # rounding step (CLIPVisionParityTests covers the resize): the embeds then check the loader alone.
    image = torch.rand(1, 16, 16, 3, generator=generator)
    (encoded,) = nodes.CLIPVisionEncode().encode(clip_vision, image, "center")
    positive_t, negative_t = torch.randn(1, 5, 32, generator=generator), torch.randn(1, 5, 32, generator=generator)
    (positive,) = nodes.unCLIPConditioning().apply_adm([[positive_t, {}]], encoded, 0.8, 0.2)
    negative = [[negative_t, {}]]
    (empty,) = nodes.EmptyLatentImage().generate(64, 64, 1)
    sample = nodes.KSampler().sample
    unclip = sample(model, 11, 8, 4.0, "euler", "normal", positive, negative, empty)[0]["samples"]
    plain = sample(model, 11, 8, 4.0, "euler", "normal", [[positive_t, {}]], negative, empty)[0]["samples"]
    print("unCLIP vs plain max abs difference", float((unclip - plain).abs().max()))

    # The same tower as a standalone OpenCLIP-layout file (`visual.*`), through ComfyUI's clip_vision.load.
    standalone_path = "/tmp/latentflow-tiny-openclip-vision.safetensors"
    save_file({"visual." + k[len(PREFIX):]: v.contiguous() for k, v in tower.items()}, standalone_path)
    (standalone,) = nodes.CLIPVisionEncode().encode(comfy.clip_vision.load(standalone_path), image, "center")

    out = {"file." + k: v for k, v in tower.items()}
    out.update({"file." + k: v for k, v in augmentor.items()})
    out.update({"image": image, "positive": positive_t, "negative": negative_t,
                "image_embeds": encoded["image_embeds"].float(), "last_hidden_state": encoded["last_hidden_state"].float(),
                "standalone.image_embeds": standalone["image_embeds"].float(),
                "ksampler": unclip, "ksampler.plain": plain})
    metadata = {"comfyui_version": comfyui_version.__version__, "torch": torch.__version__,
                "ksampler": "seed 11, 8 steps, cfg 4, euler, normal, EmptyLatentImage 64x64",
                "unclip_conditioning": "strength 0.8, noise_augmentation 0.2", "crop": "center",
                "clip_vision_dtype": str(clip_vision.dtype)}
    save_file({k: v.contiguous() for k, v in out.items()}, OUT, metadata=metadata)
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
