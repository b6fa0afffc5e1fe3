#!/usr/bin/env python3
"""Writes the inpainting fixtures from ComfyUI v0.3.64's own code (run by hand, never by CI):

  /work/venv-torch/bin/python scripts/make_inpaint_fixtures.py /tmp/comfy0364 /tmp/cextra

  - Tests/LatentflowEndToEndTests/Fixtures/inpaint/unet/: a tiny SD1.5-style inpainting UNet
    (diffusers UNet2DConditionModel, in_channels=9, one level, float16) with seeded weights;
  - Tests/LatentflowEndToEndTests/Fixtures/inpaint/reference.safetensors: whole inpainting runs by
    ComfyUI's nodes: nodes.VAEEncodeForInpaint / SetLatentNoiseMask / ImagePadForOutpaint /
    InpaintModelConditioning, then comfy_extras.nodes_custom_sampler.SamplerCustom (euler, ddim)
    with fixed sigmas, and the tiny SD1.5-inpainting checkpoint (LDM single-file layout) through
    VAEEncodeForInpaint and nodes.KSampler. The models are the tiny diffusers pipeline's VAE and plain UNet
    (Tests/LatentflowModelsTests/Fixtures/tiny_diffusers) and the inpainting UNet above, loaded
    into ComfyUI by scripts/comfyui_tiny.py (ComfyUI's SD15 with the tiny config; its BaseModel
    builds the inpainting UNet's `concat` channels, KSamplerX0Inpaint honours the noise mask);
  - Tests/LatentflowSamplingTests/Fixtures/inpaint_blend.safetensors: ComfyUI's KSAMPLER (its
    KSamplerX0Inpaint, comfy.sampler_helpers.prepare_mask, the k-diffusion euler / lcm and the
    ddim alias with its seed + 1 blend noise) around a stand-in denoiser (SamplerTests' tanh
    stand-in, restated in InpaintBlendTests);
  - Tests/LatentflowNodesTests/Fixtures/mask_nodes.safetensors: comfy_extras/nodes_mask.py's
    classes (MaskComposite, FeatherMask, GrowMask, ThresholdMask, CropMask, ImageCompositeMasked,
    LatentCompositeMasked) and nodes.ImagePadForOutpaint, called directly on small inputs.
"""
import json
import os
import sys
import types

import torch
from diffusers import UNet2DConditionModel
from safetensors.torch import save_file

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(SCRIPTS, "..")
E2E = os.path.join(ROOT, "Tests", "LatentflowEndToEndTests", "Fixtures", "inpaint")
TINY = os.path.join(ROOT, "Tests", "LatentflowModelsTests", "Fixtures", "tiny_diffusers")


def main():
    sys.path[:0] = sys.argv[2:]
    sys.path.insert(0, SCRIPTS)
    from comfyui_boot import boot
    boot(sys.argv[1])
    torch.set_num_threads(1)
    torch.set_grad_enabled(False)  # the ComfyUI executor runs nodes under inference mode
    import comfy.latent_formats
    import comfy.model_base
    import comfy.model_sampling
    import comfy.sample
    import comfy.sampler_helpers
    import comfy.samplers
    import comfy_extras.nodes_mask as masks
    import comfyui_tiny
    import comfyui_version
    import nodes
    from comfy_extras.nodes_custom_sampler import SamplerCustom
    from tiny_models import randomize

    metadata = {"comfyui_version": comfyui_version.__version__, "torch": torch.__version__}
    torch.manual_seed(2025)
    # --- the models ------------------------------------------------------------------------------
    inpaint_weights = randomize(UNet2DConditionModel(
        sample_size=8, in_channels=9, out_channels=4, block_out_channels=(32,), layers_per_block=1,
        down_block_types=("CrossAttnDownBlock2D",), up_block_types=("CrossAttnUpBlock2D",),
        cross_attention_dim=32, attention_head_dim=8), round_to_float16=True)
    inpaint_weights.half().save_pretrained(os.path.join(E2E, "unet"), safe_serialization=True)
    vae = comfyui_tiny.load_diffusers_vae(os.path.join(TINY, "vae"))
    plain_unet = comfyui_tiny.load_diffusers_unet(os.path.join(TINY, "unet"))
    inpaint_unet = comfyui_tiny.load_diffusers_unet(os.path.join(E2E, "unet"))
    assert inpaint_unet.model.concat_keys == ("mask", "masked_image")

    table = plain_unet.get_model_object("model_sampling").sigmas
    sigmas = torch.stack([table[999], table[600], table[250], torch.tensor(0.0)])
    tensors = {"sigmas": sigmas, "positive": torch.randn(1, 5, 32), "negative": torch.randn(1, 5, 32)}
    conds = ([[tensors["positive"], {}]], [[tensors["negative"], {}]])
    image = torch.rand(1, 21, 26, 3)  # not a multiple of the latent grid: cropped
    mask = torch.zeros(1, 21, 26)
    mask[:, 6:15, 9:20] = 1.0
    mask[:, 4:6, 9:20] = 0.45  # soft rows, rounded away for the grey-out and the growth
    tensors.update({"image": image, "mask": mask})

    def sample(model, latent, seed, cfg, sampler="euler", positive=None, negative=None):
        """SamplerCustom with the fixture's sigmas (999, 600, 250 and 0 on SD1.5's table)."""
        out = SamplerCustom().sample(model, True, seed, cfg, positive or conds[0], negative or conds[1],
                                     comfy.samplers.sampler_object(sampler), sigmas.clone(), latent)[0]
        return out["samples"].contiguous()

    # 1. VAEEncodeForInpaint + the SD1.5-style inpainting UNet (euler, cfg 2.5).
    (enc,) = nodes.VAEEncodeForInpaint().encode(vae, image, mask, 6)
    tensors["vae_encode_for_inpaint.samples"] = enc["samples"].contiguous()
    tensors["vae_encode_for_inpaint.noise_mask"] = enc["noise_mask"].contiguous()
    tensors["vae_encode_for_inpaint.expected"] = sample(inpaint_unet, enc, 11, 2.5)

    # 2. SetLatentNoiseMask with the plain UNet: euler, and ddim (its own blend noise, seed + 1).
    (latent,) = nodes.VAEEncode().encode(vae, image[:, :20, :26])
    tensors["plain.latent"] = latent["samples"].contiguous()
    (masked,) = nodes.SetLatentNoiseMask().set_mask(latent, mask)
    for sampler in ["euler", "ddim"]:
        tensors[f"set_latent_noise_mask.{sampler}"] = sample(plain_unet, masked, 5, 3.0, sampler=sampler)

    # 3. Outpainting: ImagePadForOutpaint, VAEEncodeForInpaint (grow 4), the inpainting UNet.
    small = torch.rand(1, 12, 14, 3)
    tensors["outpaint.image"] = small
    padded, pad_mask = nodes.ImagePadForOutpaint().expand_image(small, 4, 0, 6, 2, 3)
    tensors["outpaint.padded"], tensors["outpaint.pad_mask"] = padded.contiguous(), pad_mask.contiguous()
    (enc,) = nodes.VAEEncodeForInpaint().encode(vae, padded, pad_mask, 4)
    tensors["outpaint.noise_mask"] = enc["noise_mask"].contiguous()
    tensors["outpaint.expected"] = sample(inpaint_unet, enc, 3, 2.0)

    # 4. InpaintModelConditioning (noise_mask on) with the inpainting UNet.
    positive, negative, latent = nodes.InpaintModelConditioning().encode(conds[0], conds[1], image, vae, mask, True)
    tensors["inpaint_model_conditioning.samples"] = latent["samples"].contiguous()
    tensors["inpaint_model_conditioning.expected"] = sample(inpaint_unet, latent, 9, 2.0, positive=positive, negative=negative)

    # 5. The tiny SD1.5-inpainting checkpoint in the LDM single-file layout (the inpaint templates'
    #    stand-in), loaded by comfy.sd.load_checkpoint_guess_config: VAEEncodeForInpaint (grow 6) with
    #    its own VAE, then nodes.KSampler (euler, normal, 4 steps, cfg 2.5, seed 21). Own draws; ComfyUI's
    #    noise reseeds torch's global generator (prepare_noise), and the next case reseeds it again
    #    for the inputs below, so those stay as they were.
    path = os.path.join(ROOT, "models", "checkpoints", "latentflow-tiny-sd15-inpainting.safetensors")
    checkpoint, checkpoint_vae = comfyui_tiny.load_checkpoint(path), comfyui_tiny.load_checkpoint_vae(path)
    assert checkpoint.model.concat_keys == ("mask", "masked_image")
    g = torch.Generator().manual_seed(2029)
    tensors["checkpoint.image"] = torch.rand(1, 66, 76, 3, generator=g)
    tensors["checkpoint.mask"] = (torch.rand(1, 66, 76, generator=g) > 0.6).float()
    (enc,) = nodes.VAEEncodeForInpaint().encode(checkpoint_vae, tensors["checkpoint.image"], tensors["checkpoint.mask"], 6)
    tensors["checkpoint.samples"], tensors["checkpoint.noise_mask"] = enc["samples"].contiguous(), enc["noise_mask"].contiguous()
    tensors["checkpoint.expected"] = nodes.KSampler().sample(checkpoint, 21, 4, 2.5, "euler", "normal", conds[0], conds[1],
                                                             enc)[0]["samples"].contiguous()

    # 6. The inpainting UNet without any mask: all-ones mask and the blank image as its channels.
    tensors["no_mask.expected"] = sample(inpaint_unet, {"samples": torch.zeros(1, 4, 6, 7)}, 4, 1.5)
    save_file(tensors, os.path.join(E2E, "reference.safetensors"), metadata=metadata)

    # --- KSamplerX0Inpaint around the stand-in denoiser --------------------------------------------
    class ModelSampling(comfy.model_sampling.ModelSamplingDiscrete, comfy.model_sampling.EPS):
        pass

    ms = ModelSampling(None)
    base_model = types.SimpleNamespace(model_sampling=ms)  # BaseModel's blend noise scaling, bound to it
    base_model.scale_latent_inpaint = types.MethodType(comfy.model_base.BaseModel.scale_latent_inpaint, base_model)

    class StandInModel:
        """Plays the CFGGuider-wrapped model KSAMPLER.sample drives (as in make_sampling_fixtures.py)."""
        inner_model = base_model

        def predict(self, x, sigma, context):
            eps = torch.tanh(ms.calculate_input(sigma, x) * 0.7 + context) * 0.9 + ms.timestep(sigma).float().view(-1, 1, 1, 1) * 0.00005
            return ms.calculate_denoised(sigma, eps, x)

        def __call__(self, x, sigma, model_options={}, seed=None):
            cond, uncond = self.predict(x, sigma, 0.3), self.predict(x, sigma, -0.2)
            return uncond + (cond - uncond) * 2.0

    sd15 = comfy.latent_formats.SD15()
    blend = {}
    latent = torch.randn(2, 4, 6, 8) * 3
    noise_mask = torch.rand(1, 1, 12, 16)
    blend["latent"], blend["mask"] = latent, noise_mask
    for sampler in ["euler", "ddim", "lcm"]:
        seed = 123
        noise = comfy.sample.prepare_noise(latent, seed)
        denoise_mask = comfy.sampler_helpers.prepare_mask(noise_mask, noise.shape, "cpu")  # as CFGGuider.sample does
        out = comfy.samplers.sampler_object(sampler).sample(StandInModel(), sigmas.clone(), {"seed": seed}, None, noise,
                                                           sd15.process_in(latent), denoise_mask, True)
        blend[sampler] = sd15.process_out(out).contiguous()
    blend["sigmas"] = sigmas
    save_file(blend, os.path.join(ROOT, "Tests", "LatentflowSamplingTests", "Fixtures", "inpaint_blend.safetensors"),
              metadata=metadata)

    # --- the mask nodes ---------------------------------------------------------------------------
    out, node_cases = {}, {}
    m1, m2 = torch.rand(2, 9, 11), torch.rand(1, 5, 6)
    binary = (torch.rand(1, 10, 12) > 0.7).float()
    out.update({"m1": m1, "m2": m2, "binary": binary})
    for op in ["multiply", "add", "subtract", "and", "or", "xor"]:
        out[f"composite_{op}"] = masks.MaskComposite().combine(m1.clone(), m2.clone(), 7, 3, op)[0]
        node_cases[f"composite_{op}"] = {"node": "MaskComposite", "destination": "m1", "source": "m2", "x": 7, "y": 3, "operation": op}
    for name, (l, t, r, b) in {"feather_a": (3, 0, 2, 4), "feather_b": (20, 1, 0, 12)}.items():
        out[name] = masks.FeatherMask().feather(m1.clone(), l, t, r, b)[0]
        node_cases[name] = {"node": "FeatherMask", "mask": "m1", "left": l, "top": t, "right": r, "bottom": b}
    for name, (e, tc) in {"grow_3_taper": (3, True), "grow_2_square": (2, False), "shrink_2_taper": (-2, True), "shrink_1_square": (-1, False)}.items():
        for source in ["binary", "m1"]:
            out[f"{name}_{source}"] = masks.GrowMask().expand_mask(out[source].clone(), e, tc)[0]
            node_cases[f"{name}_{source}"] = {"node": "GrowMask", "mask": source, "expand": e, "tapered_corners": tc}
    out["threshold"] = masks.ThresholdMask().image_to_mask(m1.clone(), 0.35)[0]
    node_cases["threshold"] = {"node": "ThresholdMask", "mask": "m1", "value": 0.35}
    out["crop"] = masks.CropMask().crop(m1.clone(), 3, 2, 5, 20)[0]
    node_cases["crop"] = {"node": "CropMask", "mask": "m1", "x": 3, "y": 2, "width": 5, "height": 20}
    dest_img, src_img = torch.rand(2, 10, 13, 3), torch.rand(1, 6, 5, 3)
    out.update({"dest_img": dest_img, "src_img": src_img})
    out["image_composite"] = masks.ImageCompositeMasked().composite(dest_img.clone(), src_img.clone(), 9, 7, False, m2.clone())[0]
    node_cases["image_composite"] = {"node": "ImageCompositeMasked", "destination": "dest_img", "source": "src_img", "x": 9, "y": 7, "resize_source": False, "mask": "m2"}
    out["image_composite_resized"] = masks.ImageCompositeMasked().composite(dest_img.clone(), src_img.clone(), 0, 0, True)[0]
    node_cases["image_composite_resized"] = {"node": "ImageCompositeMasked", "destination": "dest_img", "source": "src_img", "x": 0, "y": 0, "resize_source": True}
    dest_lat, src_lat = torch.randn(1, 4, 6, 7), torch.randn(1, 4, 4, 4)
    out.update({"dest_lat": dest_lat, "src_lat": src_lat})
    out["latent_composite"] = masks.LatentCompositeMasked().composite(
        {"samples": dest_lat.clone()}, {"samples": src_lat.clone()}, 24, 8, False, m2.clone())[0]["samples"]
    node_cases["latent_composite"] = {"node": "LatentCompositeMasked", "destination": "dest_lat", "source": "src_lat", "x": 24, "y": 8, "resize_source": False, "mask": "m2"}
    out["pad_image"], out["pad_mask"] = nodes.ImagePadForOutpaint().expand_image(src_img.repeat(2, 1, 1, 1), 8, 16, 0, 8, 2)
    node_cases["pad"] = {"node": "ImagePadForOutpaint", "image": "src_img", "left": 8, "top": 16, "right": 0, "bottom": 8, "feathering": 2}
    save_file({k: v.contiguous() for k, v in out.items()},
              os.path.join(ROOT, "Tests", "LatentflowNodesTests", "Fixtures", "mask_nodes.safetensors"),
              metadata=dict(metadata, cases=json.dumps(node_cases)))
    print("wrote inpaint/, inpaint_blend.safetensors, mask_nodes.safetensors")


if __name__ == "__main__":
    main()
