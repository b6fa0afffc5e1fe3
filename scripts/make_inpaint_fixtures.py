#!/usr/bin/env python3
"""Writes the inpainting fixtures (run by hand, never by CI):

  /work/venv-torch/bin/python scripts/make_inpaint_fixtures.py

  - Tests/LatentflowEndToEndTests/Fixtures/inpaint/unet/: a tiny SD1.5-style inpainting UNet
    (diffusers UNet2DConditionModel, in_channels=9, one level, float16) with seeded weights;
  - Tests/LatentflowEndToEndTests/Fixtures/inpaint/reference.safetensors: whole inpainting runs
    (VAEEncodeForInpaint / SetLatentNoiseMask / ImagePadForOutpaint / InpaintModelConditioning,
    then sampling) on that UNet, on the tiny diffusers pipeline's plain UNet and its VAE
    (Tests/LatentflowModelsTests/Fixtures/tiny_diffusers), with diffusers doing the model calls;
  - Tests/LatentflowSamplingTests/Fixtures/inpaint_blend.safetensors: KSamplerX0Inpaint around a
    stand-in denoiser (SamplerTests' tanh stand-in) for euler, ddim and lcm;
  - Tests/LatentflowNodesTests/Fixtures/mask_nodes.safetensors: the mask nodes on small inputs.

There is no ComfyUI checkout here, so each reference is a torch transcription of ComfyUI v0.3.6x,
naming the function it follows: the same torch operations in the same order, float32 on CPU.
"""
import json
import math
import os
import sys

import numpy as np
import scipy.ndimage
import torch
import torch.nn.functional as F
from diffusers import AutoencoderKL, UNet2DConditionModel
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from comfy_utils_reference import common_upscale, repeat_to_batch_size  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tiny_models import randomize  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
E2E = os.path.join(ROOT, "Tests", "LatentflowEndToEndTests", "Fixtures", "inpaint")
TINY = os.path.join(ROOT, "Tests", "LatentflowModelsTests", "Fixtures", "tiny_diffusers")
torch.manual_seed(2025)


# --- comfy/model_sampling.py ModelSamplingDiscrete (linear betas 0.00085..0.012) + EPS ---------
betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2
alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
table = (((1 - alphas_cumprod) / alphas_cumprod) ** 0.5).float()
log_sigmas = table.log().float()


def timestep(sigma):
    return (sigma.log() - log_sigmas[:, None]).abs().argmin(dim=0).view(sigma.shape).float()


def calculate_input(sigma, x):
    return x / (sigma ** 2 + 1.0) ** 0.5


def noise_scaling(sigma, noise, latent, max_denoise=False):
    noise = noise * torch.sqrt(1.0 + sigma ** 2.0) if max_denoise else noise * sigma
    return noise + latent


def prepare_mask(mask, shape):  # comfy/sampler_helpers.py prepare_mask -> utils.reshape_mask
    mask = mask.reshape((-1, 1, mask.shape[-2], mask.shape[-1]))
    mask = F.interpolate(mask, size=shape[2:], mode="bilinear")
    if mask.shape[1] < shape[1]:
        mask = mask.repeat((1, shape[1], 1, 1))[:, :shape[1]]
    return repeat_to_batch_size(mask, shape[0])


# --- nodes.py ------------------------------------------------------------------------------------
def inpaint_pixels(pixels, mask, ratio):
    """The shared start of VAEEncodeForInpaint.encode / InpaintModelConditioning.encode."""
    x, y = (pixels.shape[1] // ratio) * ratio, (pixels.shape[2] // ratio) * ratio
    mask = F.interpolate(mask.reshape((-1, 1, mask.shape[-2], mask.shape[-1])), size=(pixels.shape[1], pixels.shape[2]), mode="bilinear")
    pixels = pixels.clone()
    if pixels.shape[1] != x or pixels.shape[2] != y:
        xo, yo = (pixels.shape[1] % ratio) // 2, (pixels.shape[2] % ratio) // 2
        pixels = pixels[:, xo:x + xo, yo:y + yo, :]
        mask = mask[:, :, xo:x + xo, yo:y + yo]
    return pixels, mask, x, y


def grey_out(pixels, mask):
    m = (1.0 - mask.round()).squeeze(1)
    for i in range(3):
        pixels[:, :, :, i] -= 0.5
        pixels[:, :, :, i] *= m
        pixels[:, :, :, i] += 0.5
    return pixels


def vae_encode_for_inpaint(vae, pixels, mask, grow_mask_by, ratio):
    pixels, mask, x, y = inpaint_pixels(pixels, mask, ratio)
    if grow_mask_by == 0:
        mask_erosion = mask
    else:
        kernel = torch.ones((1, 1, grow_mask_by, grow_mask_by))
        padding = math.ceil((grow_mask_by - 1) / 2)
        mask_erosion = torch.clamp(F.conv2d(mask.round(), kernel, padding=padding), 0, 1)
    pixels = grey_out(pixels, mask)
    return {"samples": vae_encode(vae, pixels), "noise_mask": mask_erosion[:, :, :x, :y].round()}


def inpaint_model_conditioning(vae, pixels, mask, ratio):
    orig = pixels
    pixels, mask, _, _ = inpaint_pixels(pixels, mask, ratio)
    concat_latent = vae_encode(vae, grey_out(pixels, mask))
    return concat_latent, mask, vae_encode(vae, orig)


def image_pad_for_outpaint(image, left, top, right, bottom, feathering):
    d1, d2, d3, d4 = image.size()
    new_image = torch.ones((d1, d2 + top + bottom, d3 + left + right, d4), dtype=torch.float32) * 0.5
    new_image[:, top:top + d2, left:left + d3, :] = image
    mask = torch.ones((d2 + top + bottom, d3 + left + right), dtype=torch.float32)
    t = torch.zeros((d2, d3), dtype=torch.float32)
    if feathering > 0 and feathering * 2 < d2 and feathering * 2 < d3:
        for i in range(d2):
            for j in range(d3):
                dt = i if top != 0 else d2
                db = d2 - i if bottom != 0 else d2
                dl = j if left != 0 else d3
                dr = d3 - j if right != 0 else d3
                d = min(dt, db, dl, dr)
                if d >= feathering:
                    continue
                v = (feathering - d) / feathering
                t[i, j] = v * v
    mask[top:top + d2, left:left + d3] = t
    return new_image, mask


def vae_encode(vae, pixels):  # comfy/sd.py VAE.encode: vae_encode_crop_pixels, 2x - 1, posterior mean
    for d in (1, 2):
        size = (pixels.shape[d] // ratio) * ratio
        if size != pixels.shape[d]:
            pixels = pixels.narrow(d, (pixels.shape[d] % ratio) // 2, size)
    with torch.no_grad():
        return vae.encode(pixels.movedim(-1, 1) * 2.0 - 1.0).latent_dist.mean


# --- comfy/model_base.py BaseModel.concat_cond (inpaint: mask, masked_image) ----------------------
BLANK = [0.8223, -0.6876, 0.6364, 0.1380]


def concat_cond(noise, latent_image, denoise_mask, concat_latent=None, concat_mask=None):
    mask = concat_mask if concat_mask is not None else denoise_mask
    image = latent_image if concat_latent is None else concat_latent * 0.18215
    if image.shape[1:] != noise.shape[1:]:
        image = common_upscale(image, noise.shape[-1], noise.shape[-2], "bilinear", "center")
    if mask is None:
        blank = torch.ones_like(noise)
        for c, v in enumerate(BLANK):
            blank[:, c] *= v
        return torch.cat([torch.ones_like(noise)[:, :1], blank], dim=1)
    if mask.ndim == noise.ndim:
        mask = mask[:, :1]
    mask = mask.reshape((-1, 1, mask.shape[-2], mask.shape[-1]))
    if mask.shape[-2:] != noise.shape[-2:]:
        mask = common_upscale(mask, noise.shape[-1], noise.shape[-2], "bilinear", "center")
    return torch.cat([repeat_to_batch_size(mask.round(), noise.shape[0]), image], dim=1)


# --- comfy/samplers.py: CFG, KSamplerX0Inpaint, KSAMPLER.sample with sample_euler ----------------
def sample(unet, latent, noise_mask, sigmas, seed, cfg, contexts, sampler="euler", concat=None):
    """latent: unscaled; contexts: (positive, negative); concat(noise, latent_in, mask) or None."""
    noise = torch.randn(latent.shape, generator=torch.manual_seed(seed))
    latent_in = latent * 0.18215 if torch.count_nonzero(latent) > 0 else latent
    mask = prepare_mask(noise_mask, latent.shape) if noise_mask is not None else None
    c_concat = concat(noise, latent_in, mask) if concat else None
    blend_noise = torch.randn(latent.shape, generator=torch.manual_seed(seed + 1)) if sampler == "ddim" else noise

    def model(x, sigma):
        outs = []
        for context in contexts:
            x_in = calculate_input(sigma, x)
            if c_concat is not None:
                x_in = torch.cat([x_in, c_concat], dim=1)
            with torch.no_grad():
                eps = unet(x_in, timestep(sigma), encoder_hidden_states=context).sample
            outs.append(x - eps * sigma)
        cond, uncond = outs
        return uncond + (cond - uncond) * cfg

    def model_k(x, sigma):
        if mask is not None:
            x = x * mask + noise_scaling(sigma, blend_noise, latent_in) * (1.0 - mask)
        out = model(x, sigma)
        if mask is not None:
            out = out * mask + latent_in * (1.0 - mask)
        return out

    max_denoise = math.isclose(float(table[-1]), float(sigmas[0]), rel_tol=1e-05) or float(sigmas[0]) > float(table[-1])
    x = noise_scaling(sigmas[0], noise, latent_in, max_denoise)
    for i in range(len(sigmas) - 1):
        denoised = model_k(x, sigmas[i])
        x = x + (x - denoised) / sigmas[i] * (sigmas[i + 1] - sigmas[i])
    return x / 0.18215


# --- the end-to-end cases -------------------------------------------------------------------------
vae = AutoencoderKL.from_pretrained(os.path.join(TINY, "vae")).eval()
plain_unet = UNet2DConditionModel.from_pretrained(os.path.join(TINY, "unet")).eval()
ratio = 2 ** (len(vae.config.block_out_channels) - 1)
inpaint_unet = randomize(UNet2DConditionModel(
    sample_size=8, in_channels=9, out_channels=4, block_out_channels=(32,), layers_per_block=1,
    down_block_types=("CrossAttnDownBlock2D",), up_block_types=("CrossAttnUpBlock2D",),
    cross_attention_dim=32, attention_head_dim=8), round_to_float16=True)
inpaint_unet.half().save_pretrained(os.path.join(E2E, "unet"), safe_serialization=True)
inpaint_unet.float()

sigmas = torch.stack([table[999], table[600], table[250], torch.tensor(0.0)])
tensors = {"sigmas": sigmas, "positive": torch.randn(1, 5, 32), "negative": torch.randn(1, 5, 32)}
contexts = (tensors["positive"], tensors["negative"])
image = torch.rand(1, 21, 26, 3)  # not a multiple of the latent grid: cropped
mask = torch.zeros(1, 21, 26)
mask[:, 6:15, 9:20] = 1.0
mask[:, 4:6, 9:20] = 0.45  # soft rows, rounded away for the grey-out and the growth
tensors.update({"image": image, "mask": mask})
cases = {}

# 1. VAEEncodeForInpaint + the SD1.5-style inpainting UNet (KSampler euler, cfg 2.5).
enc = vae_encode_for_inpaint(vae, image, mask, 6, ratio)
tensors["vae_encode_for_inpaint.samples"] = enc["samples"].contiguous()
tensors["vae_encode_for_inpaint.noise_mask"] = enc["noise_mask"].contiguous()
tensors["vae_encode_for_inpaint.expected"] = sample(
    inpaint_unet, enc["samples"], enc["noise_mask"], sigmas, 11, 2.5, contexts,
    concat=lambda n, l, m: concat_cond(n, l, m)).contiguous()

# 2. SetLatentNoiseMask with the plain UNet: euler, and ddim (its own blend noise, seed + 1).
latent = vae_encode(vae, image[:, :20, :26])
tensors["plain.latent"] = latent.contiguous()
for sampler in ["euler", "ddim"]:
    tensors[f"set_latent_noise_mask.{sampler}"] = sample(
        plain_unet, latent, mask.reshape((-1, 1, 21, 26)), sigmas, 5, 3.0, contexts, sampler=sampler).contiguous()

# 3. Outpainting: ImagePadForOutpaint, VAEEncodeForInpaint (grow 4), the inpainting UNet.
small = torch.rand(1, 12, 14, 3)
tensors["outpaint.image"] = small
padded, pad_mask = image_pad_for_outpaint(small, 4, 0, 6, 2, 3)
tensors["outpaint.padded"], tensors["outpaint.pad_mask"] = padded, pad_mask
enc = vae_encode_for_inpaint(vae, padded, pad_mask, 4, ratio)
tensors["outpaint.noise_mask"] = enc["noise_mask"].contiguous()
tensors["outpaint.expected"] = sample(
    inpaint_unet, enc["samples"], enc["noise_mask"], sigmas, 3, 2.0, contexts,
    concat=lambda n, l, m: concat_cond(n, l, m)).contiguous()

# 4. InpaintModelConditioning (noise_mask on) with the inpainting UNet.
concat_latent, pixel_mask, orig = inpaint_model_conditioning(vae, image, mask, ratio)
tensors["inpaint_model_conditioning.samples"] = orig.contiguous()
tensors["inpaint_model_conditioning.expected"] = sample(
    inpaint_unet, orig, pixel_mask, sigmas, 9, 2.0, contexts,
    concat=lambda n, l, m: concat_cond(n, l, m, concat_latent=concat_latent, concat_mask=pixel_mask)).contiguous()

# 5. The inpainting UNet without any mask: all-ones mask and the blank image as its channels.
tensors["no_mask.expected"] = sample(
    inpaint_unet, torch.zeros(1, 4, 6, 7), None, sigmas, 4, 1.5, contexts,
    concat=lambda n, l, m: concat_cond(n, l, m)).contiguous()

save_file(tensors, os.path.join(E2E, "reference.safetensors"))


# --- KSamplerX0Inpaint around the stand-in denoiser (SamplerTests' stand_in_eps) ------------------
def stand_in(x, sigma, cfg):
    def predict(context):
        eps = torch.tanh(calculate_input(sigma, x) * 0.7 + context) * 0.9 + timestep(sigma).float() * 0.00005
        return x - eps * sigma
    cond, uncond = predict(0.3), predict(-0.2)
    return uncond + (cond - uncond) * cfg


blend = {}
latent = torch.randn(2, 4, 6, 8) * 3
noise_mask = torch.rand(1, 1, 12, 16)
blend["latent"], blend["mask"] = latent, noise_mask
for sampler in ["euler", "ddim", "lcm"]:
    seed = 123
    noise = torch.randn(latent.shape, generator=torch.manual_seed(seed))
    latent_in = latent * 0.18215
    m = prepare_mask(noise_mask, latent.shape)
    blend_noise = torch.randn(latent.shape, generator=torch.manual_seed(seed + 1)) if sampler == "ddim" else noise
    step_noise = torch.Generator().manual_seed(seed)  # k_diffusion default_noise_sampler

    def model_k(x, sigma):
        x = x * m + noise_scaling(sigma, blend_noise, latent_in) * (1.0 - m)
        return stand_in(x, sigma, 2.0) * m + latent_in * (1.0 - m)

    x = noise_scaling(sigmas[0], noise, latent_in, True)
    for i in range(len(sigmas) - 1):
        denoised = model_k(x, sigmas[i])
        if sampler == "lcm":  # k_diffusion sample_lcm
            x = denoised
            if sigmas[i + 1] > 0:
                x = noise_scaling(sigmas[i + 1], torch.randn(x.size(), generator=step_noise), x)
        else:
            x = x + (x - denoised) / sigmas[i] * (sigmas[i + 1] - sigmas[i])
    blend[sampler] = (x / 0.18215).contiguous()
blend["sigmas"] = sigmas
save_file(blend, os.path.join(ROOT, "Tests", "LatentflowSamplingTests", "Fixtures", "inpaint_blend.safetensors"))


# --- the mask nodes (comfy_extras/nodes_mask.py) --------------------------------------------------
def composite(destination, source, x, y, mask=None, multiplier=8, resize_source=False):
    if resize_source:
        source = F.interpolate(source, size=(destination.shape[-2], destination.shape[-1]), mode="bilinear")
    source = repeat_to_batch_size(source, destination.shape[0])
    x = max(-source.shape[-1] * multiplier, min(x, destination.shape[-1] * multiplier))
    y = max(-source.shape[-2] * multiplier, min(y, destination.shape[-2] * multiplier))
    left, top = (x // multiplier, y // multiplier)
    right, bottom = (left + source.shape[-1], top + source.shape[-2])
    if mask is None:
        mask = torch.ones_like(source)
    else:
        mask = F.interpolate(mask.reshape((-1, 1, mask.shape[-2], mask.shape[-1])), size=(source.shape[-2], source.shape[-1]), mode="bilinear")
        mask = repeat_to_batch_size(mask, source.shape[0])
    visible_width, visible_height = (destination.shape[-1] - left + min(0, x), destination.shape[-2] - top + min(0, y))
    mask = mask[:, :, :visible_height, :visible_width]
    inverse_mask = torch.ones_like(mask) - mask
    source_portion = mask * source[..., :visible_height, :visible_width]
    destination_portion = inverse_mask * destination[..., top:bottom, left:right]
    destination[..., top:bottom, left:right] = source_portion + destination_portion
    return destination


def mask_composite(destination, source, x, y, operation):
    output = destination.reshape((-1, destination.shape[-2], destination.shape[-1])).clone()
    source = source.reshape((-1, source.shape[-2], source.shape[-1]))
    left, top = (x, y)
    right, bottom = (min(left + source.shape[-1], destination.shape[-1]), min(top + source.shape[-2], destination.shape[-2]))
    vw, vh = (right - left, bottom - top)
    s, d = source[:, :vh, :vw], output[:, top:bottom, left:right]
    if operation == "multiply":
        output[:, top:bottom, left:right] = d * s
    elif operation == "add":
        output[:, top:bottom, left:right] = d + s
    elif operation == "subtract":
        output[:, top:bottom, left:right] = d - s
    elif operation == "and":
        output[:, top:bottom, left:right] = torch.bitwise_and(d.round().bool(), s.round().bool()).float()
    elif operation == "or":
        output[:, top:bottom, left:right] = torch.bitwise_or(d.round().bool(), s.round().bool()).float()
    elif operation == "xor":
        output[:, top:bottom, left:right] = torch.bitwise_xor(d.round().bool(), s.round().bool()).float()
    return torch.clamp(output, 0.0, 1.0)


def feather(mask, left, top, right, bottom):
    output = mask.reshape((-1, mask.shape[-2], mask.shape[-1])).clone()
    left, right = min(left, output.shape[-1]), min(right, output.shape[-1])
    top, bottom = min(top, output.shape[-2]), min(bottom, output.shape[-2])
    for x in range(left):
        output[:, :, x] *= (x + 1.0) / left
    for x in range(right):
        output[:, :, -x] *= (x + 1) / right
    for y in range(top):
        output[:, y, :] *= (y + 1) / top
    for y in range(bottom):
        output[:, -y, :] *= (y + 1) / bottom
    return output


def grow(mask, expand, tapered_corners):
    c = 0 if tapered_corners else 1
    kernel = np.array([[c, 1, c], [1, 1, 1], [c, 1, c]])
    out = []
    for m in mask.reshape((-1, mask.shape[-2], mask.shape[-1])):
        output = m.numpy()
        for _ in range(abs(expand)):
            output = (scipy.ndimage.grey_erosion if expand < 0 else scipy.ndimage.grey_dilation)(output, footprint=kernel)
        out.append(torch.from_numpy(output))
    return torch.stack(out, dim=0)


nodes, node_cases = {}, {}
m1, m2 = torch.rand(2, 9, 11), torch.rand(1, 5, 6)
binary = (torch.rand(1, 10, 12) > 0.7).float()
nodes.update({"m1": m1, "m2": m2, "binary": binary})
for op in ["multiply", "add", "subtract", "and", "or", "xor"]:
    nodes[f"composite_{op}"] = mask_composite(m1, m2, 7, 3, op)
    node_cases[f"composite_{op}"] = {"node": "MaskComposite", "destination": "m1", "source": "m2", "x": 7, "y": 3, "operation": op}
for name, (l, t, r, b) in {"feather_a": (3, 0, 2, 4), "feather_b": (20, 1, 0, 12)}.items():
    nodes[name] = feather(m1, l, t, r, b)
    node_cases[name] = {"node": "FeatherMask", "mask": "m1", "left": l, "top": t, "right": r, "bottom": b}
for name, (e, tc) in {"grow_3_taper": (3, True), "grow_2_square": (2, False), "shrink_2_taper": (-2, True), "shrink_1_square": (-1, False)}.items():
    for source in ["binary", "m1"]:
        nodes[f"{name}_{source}"] = grow(nodes[source], e, tc)
        node_cases[f"{name}_{source}"] = {"node": "GrowMask", "mask": source, "expand": e, "tapered_corners": tc}
nodes["threshold"] = (m1 > 0.35).float()
node_cases["threshold"] = {"node": "ThresholdMask", "mask": "m1", "value": 0.35}
nodes["crop"] = m1.reshape((-1, 9, 11))[:, 2:2 + 20, 3:3 + 5]
node_cases["crop"] = {"node": "CropMask", "mask": "m1", "x": 3, "y": 2, "width": 5, "height": 20}
dest_img, src_img = torch.rand(2, 10, 13, 3), torch.rand(1, 6, 5, 3)
nodes.update({"dest_img": dest_img, "src_img": src_img})
nodes["image_composite"] = composite(dest_img.clone().movedim(-1, 1), src_img.movedim(-1, 1), 9, 7, m2, 1, False).movedim(1, -1).contiguous()
node_cases["image_composite"] = {"node": "ImageCompositeMasked", "destination": "dest_img", "source": "src_img", "x": 9, "y": 7, "resize_source": False, "mask": "m2"}
nodes["image_composite_resized"] = composite(dest_img.clone().movedim(-1, 1), src_img.movedim(-1, 1), 0, 0, None, 1, True).movedim(1, -1).contiguous()
node_cases["image_composite_resized"] = {"node": "ImageCompositeMasked", "destination": "dest_img", "source": "src_img", "x": 0, "y": 0, "resize_source": True}
dest_lat, src_lat = torch.randn(1, 4, 6, 7), torch.randn(1, 4, 4, 4)
nodes.update({"dest_lat": dest_lat, "src_lat": src_lat})
nodes["latent_composite"] = composite(dest_lat.clone(), src_lat, 24, 8, m2, 8, False)
node_cases["latent_composite"] = {"node": "LatentCompositeMasked", "destination": "dest_lat", "source": "src_lat", "x": 24, "y": 8, "resize_source": False, "mask": "m2"}
nodes["pad_image"], nodes["pad_mask"] = image_pad_for_outpaint(src_img.repeat(2, 1, 1, 1), 8, 16, 0, 8, 2)
node_cases["pad"] = {"node": "ImagePadForOutpaint", "image": "src_img", "left": 8, "top": 16, "right": 0, "bottom": 8, "feathering": 2}
save_file({k: v.contiguous() for k, v in nodes.items()},
          os.path.join(ROOT, "Tests", "LatentflowNodesTests", "Fixtures", "mask_nodes.safetensors"),
          metadata={"cases": json.dumps(node_cases)})
print("wrote inpaint/, inpaint_blend.safetensors, mask_nodes.safetensors")
