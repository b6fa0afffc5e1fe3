#!/usr/bin/env python3
"""Writes Tests/LatentflowNodesTests/Fixtures/image_nodes.safetensors: ComfyUI's image nodes
(nodes.py, comfy_extras/nodes_images.py, nodes_rebatch.py, nodes_post_processing.py) and the
`lanczos` / `bislerp` resize methods of comfy.utils.common_upscale, run on small seeded inputs.

Run by hand, never by CI:  /work/venv-torch/bin/python scripts/make_image_node_fixtures.py

Like make_latent_node_fixtures.py, this does not import ComfyUI: each reference performs the same
torch operations in the same order as the ComfyUI node method it is named after (read from
ComfyUI's source), and `lanczos` calls Pillow itself, as ComfyUI does. The shared transcription of
comfy/utils.py is scripts/comfy_utils_reference.py.

Each case's metadata (JSON under `cases`) names its node, its inputs (typed tensor keys), its
parameters (typed), its expected outputs and `kind`: "exact" where ComfyUI copies values or
works on 8-bit values (Lanczos), "float" where float32 arithmetic may round differently.
"""

import json
import math
import os
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from comfy_utils_reference import common_upscale, repeat_to_batch_size  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "LatentflowNodesTests", "Fixtures",
                   "image_nodes.safetensors")


# --- node references ---------------------------------------------------------------------------
def image_scale(image, method, width, height, crop):
    if width == 0 and height == 0:
        return image
    samples = image.movedim(-1, 1)
    if width == 0:
        width = max(1, round(samples.shape[3] * height / samples.shape[2]))
    elif height == 0:
        height = max(1, round(samples.shape[2] * width / samples.shape[3]))
    return common_upscale(samples, width, height, method, crop).movedim(1, -1)


def image_scale_by(image, method, scale_by):
    samples = image.movedim(-1, 1)
    width, height = round(samples.shape[3] * scale_by), round(samples.shape[2] * scale_by)
    return common_upscale(samples, width, height, method, "disabled").movedim(1, -1)


def image_scale_to_total_pixels(image, method, megapixels):
    samples = image.movedim(-1, 1)
    total = int(megapixels * 1024 * 1024)
    scale_by = math.sqrt(total / (samples.shape[3] * samples.shape[2]))
    width, height = round(samples.shape[3] * scale_by), round(samples.shape[2] * scale_by)
    return common_upscale(samples, width, height, method, "disabled").movedim(1, -1)


def latent_upscale(samples, method, width, height, crop):
    if width == 0 and height == 0:
        return samples
    if width == 0:
        height = max(64, height)
        width = max(64, round(samples.shape[-1] * height / samples.shape[-2]))
    elif height == 0:
        width = max(64, width)
        height = max(64, round(samples.shape[-2] * width / samples.shape[-1]))
    else:
        width, height = max(64, width), max(64, height)
    return common_upscale(samples, width // 8, height // 8, method, crop)


def latent_upscale_by(samples, method, scale_by):
    width, height = round(samples.shape[-1] * scale_by), round(samples.shape[-2] * scale_by)
    return common_upscale(samples, width, height, method, "disabled")


def image_batch(image1, image2):
    if image1.shape[-1] != image2.shape[-1]:
        if image1.shape[-1] > image2.shape[-1]:
            image2 = torch.nn.functional.pad(image2, (0, 1), mode='constant', value=1.0)
        else:
            image1 = torch.nn.functional.pad(image1, (0, 1), mode='constant', value=1.0)
    if image1.shape[1:] != image2.shape[1:]:
        image2 = common_upscale(image2.movedim(-1, 1), image1.shape[2], image1.shape[1], "bilinear",
                                "center").movedim(1, -1)
    return torch.cat((image1, image2), dim=0)


def image_crop(image, width, height, x, y):
    x = min(x, image.shape[2] - 1)
    y = min(y, image.shape[1] - 1)
    return image[:, y:height + y, x:width + x, :]


def image_flip(image, flip_method):
    return torch.flip(image, dims=[1] if flip_method.startswith("x") else [2])


def image_rotate(image, rotation):
    k = {"none": 0, "90 degrees": 1, "180 degrees": 2, "270 degrees": 3}[rotation]
    return torch.rot90(image, k=k, dims=[2, 1])


def image_from_batch(image, batch_index, length):
    batch_index = min(image.shape[0] - 1, batch_index)
    length = min(image.shape[0] - batch_index, length)
    return image[batch_index:batch_index + length].clone()


def image_add_noise(image, seed, strength):
    generator = torch.manual_seed(seed)
    noise = torch.randn(image.size(), generator=generator, device="cpu").to(image)
    return torch.clip(image + strength * noise, min=0.0, max=1.0)


def rebatch_images(images, batch_size):
    singles = [img[i:i + 1] for img in images for i in range(img.shape[0])]
    return [torch.cat(singles[i:i + batch_size], dim=0) for i in range(0, len(singles), batch_size)]


def image_stitch(image1, direction, match_image_size, spacing_width, spacing_color, image2=None):
    if image2 is None:
        return image1
    if image1.shape[0] != image2.shape[0]:
        max_batch = max(image1.shape[0], image2.shape[0])
        if image1.shape[0] < max_batch:
            image1 = torch.cat([image1, image1[-1:].repeat(max_batch - image1.shape[0], 1, 1, 1)])
        if image2.shape[0] < max_batch:
            image2 = torch.cat([image2, image2[-1:].repeat(max_batch - image2.shape[0], 1, 1, 1)])
    if match_image_size:
        h1, w1 = image1.shape[1:3]
        h2, w2 = image2.shape[1:3]
        aspect_ratio = w2 / h2
        if direction in ["left", "right"]:
            target_h, target_w = h1, int(h1 * aspect_ratio)
        else:
            target_w, target_h = w1, int(w1 / aspect_ratio)
        image2 = common_upscale(image2.movedim(-1, 1), target_w, target_h, "lanczos", "disabled").movedim(1, -1)
    color_map = {"white": 1.0, "black": 0.0, "red": (1.0, 0.0, 0.0), "green": (0.0, 1.0, 0.0),
                 "blue": (0.0, 0.0, 1.0)}
    color_val = color_map[spacing_color]
    if not match_image_size:
        h1, w1 = image1.shape[1:3]
        h2, w2 = image2.shape[1:3]
        pad_value = 0.0 if isinstance(color_val, tuple) else color_val
        pad = torch.nn.functional.pad
        if direction in ["left", "right"]:
            if h1 != h2:
                target_h = max(h1, h2)
                if h1 < target_h:
                    p = target_h - h1
                    image1 = pad(image1, (0, 0, 0, 0, p // 2, p - p // 2), mode='constant', value=pad_value)
                if h2 < target_h:
                    p = target_h - h2
                    image2 = pad(image2, (0, 0, 0, 0, p // 2, p - p // 2), mode='constant', value=pad_value)
        else:
            if w1 != w2:
                target_w = max(w1, w2)
                if w1 < target_w:
                    p = target_w - w1
                    image1 = pad(image1, (0, 0, p // 2, p - p // 2), mode='constant', value=pad_value)
                if w2 < target_w:
                    p = target_w - w2
                    image2 = pad(image2, (0, 0, p // 2, p - p // 2), mode='constant', value=pad_value)
    if image1.shape[-1] != image2.shape[-1]:
        max_channels = max(image1.shape[-1], image2.shape[-1])
        if image1.shape[-1] < max_channels:
            image1 = torch.cat([image1, torch.ones(*image1.shape[:-1], max_channels - image1.shape[-1])], dim=-1)
        if image2.shape[-1] < max_channels:
            image2 = torch.cat([image2, torch.ones(*image2.shape[:-1], max_channels - image2.shape[-1])], dim=-1)
    if spacing_width > 0:
        spacing_width = spacing_width + (spacing_width % 2)
        if direction in ["left", "right"]:
            shape = (image1.shape[0], max(image1.shape[1], image2.shape[1]), spacing_width, image1.shape[-1])
        else:
            shape = (image1.shape[0], spacing_width, max(image1.shape[2], image2.shape[2]), image1.shape[-1])
        spacing = torch.full(shape, 0.0)
        if isinstance(color_val, tuple):
            for i, c in enumerate(color_val):
                if i < spacing.shape[-1]:
                    spacing[..., i] = c
            if spacing.shape[-1] == 4:
                spacing[..., 3] = 1.0
        else:
            spacing[..., :min(3, spacing.shape[-1])] = color_val
            if spacing.shape[-1] == 4:
                spacing[..., 3] = 1.0
    images = [image2, image1] if direction in ["left", "up"] else [image1, image2]
    if spacing_width > 0:
        images.insert(1, spacing)
    return torch.cat(images, dim=2 if direction in ["left", "right"] else 1)


def resize_and_pad_image(image, target_width, target_height, padding_color, interpolation):
    batch_size, orig_height, orig_width, channels = image.shape
    scale = min(target_width / orig_width, target_height / orig_height)
    new_width, new_height = int(orig_width * scale), int(orig_height * scale)
    resized = common_upscale(image.permute(0, 3, 1, 2), new_width, new_height, interpolation, "disabled")
    pad_value = 0.0 if padding_color == "black" else 1.0
    padded = torch.full((batch_size, channels, target_height, target_width), pad_value, dtype=image.dtype)
    y_offset, x_offset = (target_height - new_height) // 2, (target_width - new_width) // 2
    padded[:, :, y_offset:y_offset + new_height, x_offset:x_offset + new_width] = resized
    return padded.permute(0, 2, 3, 1)


def image_scale_to_max_dimension(image, upscale_method, largest_size):
    height, width = image.shape[1], image.shape[2]
    if height > width:
        width, height = round((width / height) * largest_size), largest_size
    elif width > height:
        height, width = round((height / width) * largest_size), largest_size
    else:
        height = width = largest_size
    return common_upscale(image.movedim(-1, 1), width, height, upscale_method, "disabled").movedim(1, -1)


def resize_mask(mask, shape):
    return torch.nn.functional.interpolate(mask.reshape((-1, 1, mask.shape[-2], mask.shape[-1])),
                                           size=(shape[0], shape[1]), mode="bilinear").squeeze(1)


def split_image_with_alpha(image):
    out_images = [i[:, :, :3] for i in image]
    out_alphas = [i[:, :, 3] if i.shape[2] > 3 else torch.ones_like(i[:, :, 0]) for i in image]
    return torch.stack(out_images), 1.0 - torch.stack(out_alphas)


def join_image_with_alpha(image, alpha):
    batch_size = max(len(image), len(alpha))
    image = repeat_to_batch_size(image, batch_size)
    alpha = repeat_to_batch_size(alpha, batch_size)
    alpha = 1.0 - resize_mask(alpha, image.shape[1:])
    return torch.cat((image[..., :3], alpha.unsqueeze(-1)), dim=-1)


PORTER_DUFF = ["ADD", "CLEAR", "DARKEN", "DST", "DST_ATOP", "DST_IN", "DST_OUT", "DST_OVER", "LIGHTEN", "MULTIPLY",
               "OVERLAY", "SCREEN", "SRC", "SRC_ATOP", "SRC_IN", "SRC_OUT", "SRC_OVER", "XOR"]


def porter_duff_composite(src_image, src_alpha, dst_image, dst_alpha, mode):
    src_alpha, dst_alpha = 1 - src_alpha, 1 - dst_alpha
    src_image, dst_image = src_image * src_alpha, dst_image * dst_alpha
    union = src_alpha + dst_alpha - src_alpha * dst_alpha
    if mode == "ADD":
        out_alpha, out_image = torch.clamp(src_alpha + dst_alpha, 0, 1), torch.clamp(src_image + dst_image, 0, 1)
    elif mode == "CLEAR":
        out_alpha, out_image = torch.zeros_like(dst_alpha), torch.zeros_like(dst_image)
    elif mode == "DARKEN":
        out_alpha = union
        out_image = (1 - dst_alpha) * src_image + (1 - src_alpha) * dst_image + torch.min(src_image, dst_image)
    elif mode == "DST":
        out_alpha, out_image = dst_alpha, dst_image
    elif mode == "DST_ATOP":
        out_alpha, out_image = src_alpha, src_alpha * dst_image + (1 - dst_alpha) * src_image
    elif mode == "DST_IN":
        out_alpha, out_image = src_alpha * dst_alpha, dst_image * src_alpha
    elif mode == "DST_OUT":
        out_alpha, out_image = (1 - src_alpha) * dst_alpha, (1 - src_alpha) * dst_image
    elif mode == "DST_OVER":
        out_alpha, out_image = dst_alpha + (1 - dst_alpha) * src_alpha, dst_image + (1 - dst_alpha) * src_image
    elif mode == "LIGHTEN":
        out_alpha = union
        out_image = (1 - dst_alpha) * src_image + (1 - src_alpha) * dst_image + torch.max(src_image, dst_image)
    elif mode == "MULTIPLY":
        out_alpha, out_image = src_alpha * dst_alpha, src_image * dst_image
    elif mode == "OVERLAY":
        out_alpha = union
        out_image = torch.where(2 * dst_image < dst_alpha, 2 * src_image * dst_image,
                                src_alpha * dst_alpha - 2 * (dst_alpha - src_image) * (src_alpha - dst_image))
    elif mode == "SCREEN":
        out_alpha, out_image = union, src_image + dst_image - src_image * dst_image
    elif mode == "SRC":
        out_alpha, out_image = src_alpha, src_image
    elif mode == "SRC_ATOP":
        out_alpha, out_image = dst_alpha, dst_alpha * src_image + (1 - src_alpha) * dst_image
    elif mode == "SRC_IN":
        out_alpha, out_image = src_alpha * dst_alpha, src_image * dst_alpha
    elif mode == "SRC_OUT":
        out_alpha, out_image = (1 - dst_alpha) * src_alpha, (1 - dst_alpha) * src_image
    elif mode == "SRC_OVER":
        out_alpha, out_image = src_alpha + (1 - src_alpha) * dst_alpha, src_image + (1 - src_alpha) * dst_image
    else:
        out_alpha = (1 - dst_alpha) * src_alpha + (1 - src_alpha) * dst_alpha
        out_image = (1 - dst_alpha) * src_image + (1 - src_alpha) * dst_image
    out_image = torch.where(out_alpha > 1e-5, out_image / out_alpha, torch.zeros_like(out_image))
    return torch.clamp(out_image, 0, 1), 1 - out_alpha


def porter_duff_image_composite(source, source_alpha, destination, destination_alpha, mode):
    out_images, out_alphas = [], []
    for i in range(min(len(source), len(source_alpha), len(destination), len(destination_alpha))):
        src_image, dst_image = source[i], destination[i]
        src_alpha, dst_alpha = source_alpha[i].unsqueeze(2), destination_alpha[i].unsqueeze(2)
        if dst_alpha.shape[:2] != dst_image.shape[:2]:
            dst_alpha = common_upscale(dst_alpha.unsqueeze(0).permute(0, 3, 1, 2), dst_image.shape[1], dst_image.shape[0],
                                       'bicubic', 'center').permute(0, 2, 3, 1).squeeze(0)
        if src_image.shape != dst_image.shape:
            src_image = common_upscale(src_image.unsqueeze(0).permute(0, 3, 1, 2), dst_image.shape[1], dst_image.shape[0],
                                       'bicubic', 'center').permute(0, 2, 3, 1).squeeze(0)
        if src_alpha.shape != dst_alpha.shape:
            src_alpha = common_upscale(src_alpha.unsqueeze(0).permute(0, 3, 1, 2), dst_alpha.shape[1], dst_alpha.shape[0],
                                       'bicubic', 'center').permute(0, 2, 3, 1).squeeze(0)
        out_image, out_alpha = porter_duff_composite(src_image, src_alpha, dst_image, dst_alpha, mode)
        out_images.append(out_image)
        out_alphas.append(out_alpha.squeeze(2))
    return torch.stack(out_images), torch.stack(out_alphas)


def image_blend(image1, image2, blend_factor, blend_mode):
    if image1.shape != image2.shape:
        image2 = common_upscale(image2.permute(0, 3, 1, 2), image1.shape[2], image1.shape[1], 'bicubic',
                                'center').permute(0, 2, 3, 1)

    def g(x):
        return torch.where(x <= 0.25, ((16 * x - 12) * x + 4) * x, torch.sqrt(x))
    img1, img2 = image1, image2
    blended = {
        "normal": lambda: img2,
        "multiply": lambda: img1 * img2,
        "screen": lambda: 1 - (1 - img1) * (1 - img2),
        "overlay": lambda: torch.where(img1 <= 0.5, 2 * img1 * img2, 1 - 2 * (1 - img1) * (1 - img2)),
        "soft_light": lambda: torch.where(img2 <= 0.5, img1 - (1 - 2 * img2) * img1 * (1 - img1),
                                          img1 + (2 * img2 - 1) * (g(img1) - img1)),
        "difference": lambda: img1 - img2,
    }[blend_mode]()
    return torch.clamp(image1 * (1 - blend_factor) + blended * blend_factor, 0, 1)


def main():
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(64)

    def rand(*shape):
        return torch.rand(*shape, generator=g, dtype=torch.float32)

    tensors, cases, shared, alive = {}, {}, {}, []

    def key(t):
        alive.append(t)  # keeps id(t) from being reused by a later temporary
        name = shared.setdefault(id(t), f"input{len(shared)}")
        tensors[name] = t.clone().contiguous()
        return name

    def case(name, node, inputs, outputs, kind, **params):
        """inputs: {input name: (type, tensor or [tensors])}; outputs: [(type, value)]."""
        typed_inputs = {}
        for input_name, (kind_of, value) in inputs.items():
            typed_inputs[input_name] = [kind_of, [key(t) for t in value] if isinstance(value, list) else key(value)]
        typed_outputs = []
        for slot, (kind_of, value) in enumerate(outputs):
            if kind_of in ("IMAGE", "LATENT", "MASK"):
                tensors[f"{name}.out{slot}"] = value.clone().contiguous()
                typed_outputs.append([kind_of, f"{name}.out{slot}"])
            elif kind_of == "IMAGE_255":
                # 8-bit levels (a Lanczos result is level / 255 exactly), stored as uint8 to keep the file small.
                levels = torch.round(value * 255)
                assert torch.equal(levels.to(torch.uint8).float() / 255, value)
                tensors[f"{name}.out{slot}"] = levels.to(torch.uint8).contiguous()
                typed_outputs.append([kind_of, f"{name}.out{slot}"])
            elif kind_of == "IMAGE_LIST":
                keys = []
                for i, t in enumerate(value):
                    tensors[f"{name}.out{slot}.{i}"] = t.clone().contiguous()
                    keys.append(f"{name}.out{slot}.{i}")
                typed_outputs.append([kind_of, keys])
            else:
                typed_outputs.append([kind_of, value])
        typed_params = {}
        for p, v in params.items():
            typed_params[p] = ["BOOLEAN" if isinstance(v, bool) else "INT" if isinstance(v, int)
                               else "FLOAT" if isinstance(v, float) else "STRING", v]
        cases[name] = {"node": node, "inputs": typed_inputs, "params": typed_params, "outputs": typed_outputs,
                       "kind": kind}

    image = rand(2, 5, 7, 3)
    # Values outside 0...1 check the clip before the 8-bit quantisation of `lanczos`.
    image[0, 0, 0, 0], image[1, 2, 3, 1], image[0, 4, 6, 2] = -0.25, 1.5, float("nan")
    clean = rand(2, 5, 7, 3)
    tall = rand(1, 9, 4, 3)
    other = rand(1, 4, 6, 3)
    rgba = rand(1, 6, 5, 4)

    # 1. lanczos (Pillow on 8-bit images) and bislerp.
    for i, (w, h, crop) in enumerate([(12, 9, "disabled"), (3, 4, "disabled"), (10, 10, "center"),
                                      (0, 13, "disabled"), (7, 2, "center")]):
        case(f"scale_lanczos{i}", "ImageScale", {"image": ("IMAGE", image)},
             [("IMAGE", image_scale(image, "lanczos", w, h, crop))], "exact",
             upscale_method="lanczos", width=w, height=h, crop=crop)
    for i, s in enumerate([1.5, 0.5, 2.25]):
        case(f"scaleby_lanczos{i}", "ImageScaleBy", {"image": ("IMAGE", tall)},
             [("IMAGE", image_scale_by(tall, "lanczos", s))], "exact", upscale_method="lanczos", scale_by=s)
    case("totalpixels_lanczos", "ImageScaleToTotalPixels", {"image": ("IMAGE", tall[:, :6, :3])},
         [("IMAGE_255", image_scale_to_total_pixels(tall[:, :6, :3], "lanczos", 0.01))], "exact",
         upscale_method="lanczos", megapixels=0.01)

    latent = torch.randn(2, 4, 5, 7, generator=g)
    latent[0, :, 1, 2] = 0                      # a zero vector: zero direction
    latent[1, :, 2, 3] = latent[1, :, 2, 4]     # equal neighbours: the dot > 1 - 1e-5 branch
    latent[1, :, 3, 3] = -latent[1, :, 3, 4]    # opposite neighbours: the linear branch
    for i, (w, h, crop) in enumerate([(96, 64, "disabled"), (0, 80, "disabled"), (72, 0, "center"),
                                      (128, 64, "center")]):
        case(f"latent_bislerp{i}", "LatentUpscale", {"samples": ("LATENT", latent)},
             [("LATENT", latent_upscale(latent, "bislerp", w, h, crop))], "float",
             upscale_method="bislerp", width=w, height=h, crop=crop)
    for i, s in enumerate([1.5, 0.5, 3.0]):
        case(f"latentby_bislerp{i}", "LatentUpscaleBy", {"samples": ("LATENT", latent)},
             [("LATENT", latent_upscale_by(latent, "bislerp", s))], "float", upscale_method="bislerp", scale_by=s)

    # 2. Batch and geometry nodes.
    case("batch_same", "ImageBatch", {"image1": ("IMAGE", clean), "image2": ("IMAGE", clean)},
         [("IMAGE", image_batch(clean, clean))], "exact")
    case("batch_resize", "ImageBatch", {"image1": ("IMAGE", clean), "image2": ("IMAGE", tall)},
         [("IMAGE", image_batch(clean, tall))], "float")
    case("batch_alpha", "ImageBatch", {"image1": ("IMAGE", rgba), "image2": ("IMAGE", other)},
         [("IMAGE", image_batch(rgba, other))], "float")
    for i, (w, h, x, y) in enumerate([(3, 2, 1, 1), (512, 512, 0, 0), (4, 4, 20, 3)]):
        case(f"crop{i}", "ImageCrop", {"image": ("IMAGE", clean)}, [("IMAGE", image_crop(clean, w, h, x, y))],
             "exact", width=w, height=h, x=x, y=y)
    for method in ["x-axis: vertically", "y-axis: horizontally"]:
        case(f"flip_{method[0]}", "ImageFlip", {"image": ("IMAGE", clean)},
             [("IMAGE", image_flip(clean, method))], "exact", flip_method=method)
    for rotation in ["none", "90 degrees", "180 degrees", "270 degrees"]:
        case(f"rotate_{rotation.split()[0]}", "ImageRotate", {"image": ("IMAGE", clean)},
             [("IMAGE", image_rotate(clean, rotation))], "exact", rotation=rotation)
    case("size", "GetImageSize", {"image": ("IMAGE", clean)}, [("INT", 7), ("INT", 5), ("INT", 2)], "exact")
    case("repeat", "RepeatImageBatch", {"image": ("IMAGE", clean)}, [("IMAGE", clean.repeat((3, 1, 1, 1)))],
         "exact", amount=3)
    for i, (index, length) in enumerate([(1, 1), (0, 5), (9, 2)]):
        case(f"from_batch{i}", "ImageFromBatch", {"image": ("IMAGE", clean)},
             [("IMAGE", image_from_batch(clean, index, length))], "exact", batch_index=index, length=length)
    # RebatchImages concatenates single images, so the images of one output batch share a size.
    three = rand(3, 5, 7, 3)
    for i, size in enumerate([1, 2, 4]):
        case(f"rebatch{i}", "RebatchImages", {"images": ("IMAGE_LIST", [clean, three])},
             [("IMAGE_LIST", rebatch_images([clean, three], size))], "exact", batch_size=size)
    for i, (seed, strength) in enumerate([(0, 0.5), (123456789, 0.25), (2**40 + 3, 1.0)]):
        case(f"add_noise{i}", "ImageAddNoise", {"image": ("IMAGE", clean)},
             [("IMAGE", image_add_noise(clean, seed, strength))], "float", seed=seed, strength=strength)
    stitch_cases = [("right", True, 0, "white", other), ("down", True, 4, "red", other), ("left", False, 2, "black", tall),
                    ("up", False, 3, "blue", tall), ("right", False, 0, "green", rgba), ("down", False, 2, "green", rgba),
                    ("left", True, 0, "white", None)]
    for i, (direction, match, spacing, color, second) in enumerate(stitch_cases):
        inputs = {"image1": ("IMAGE", clean)}
        if second is not None:
            inputs["image2"] = ("IMAGE", second)
        case(f"stitch{i}", "ImageStitch", inputs,
             [("IMAGE", image_stitch(clean, direction, match, spacing, color, second))], "exact",
             direction=direction, match_image_size=match, spacing_width=spacing, spacing_color=color)
    for i, (w, h, color, method) in enumerate([(10, 10, "white", "lanczos"), (6, 9, "black", "bicubic"),
                                               (14, 4, "white", "area"), (7, 5, "black", "nearest-exact")]):
        case(f"resize_pad{i}", "ResizeAndPadImage", {"image": ("IMAGE", clean)},
             [("IMAGE", resize_and_pad_image(clean, w, h, color, method))], "exact" if method == "lanczos" else "float",
             target_width=w, target_height=h, padding_color=color, interpolation=method)
    for i, (img, method, size) in enumerate([(clean, "lanczos", 11), (tall, "bilinear", 6), (tall[:, :4], "area", 3),
                                             (clean, "bicubic", 0)]):
        if size == 0:
            continue  # ComfyUI would resize to 0x0 and fail; Latentflow refuses it (tested in Swift)
        case(f"max_dimension{i}", "ImageScaleToMaxDimension", {"image": ("IMAGE", img)},
             [("IMAGE", image_scale_to_max_dimension(img, method, size))], "exact" if method == "lanczos" else "float",
             upscale_method=method, largest_size=size)

    # 4. Alpha: split, join, Porter-Duff (every mode; one case with resized source and alphas).
    case("split_rgb", "SplitImageWithAlpha", {"image": ("IMAGE", clean)},
         [(t, v) for t, v in zip(("IMAGE", "MASK"), split_image_with_alpha(clean))], "exact")
    case("split_rgba", "SplitImageWithAlpha", {"image": ("IMAGE", rgba)},
         [(t, v) for t, v in zip(("IMAGE", "MASK"), split_image_with_alpha(rgba))], "float")
    mask_small, mask_batch = rand(1, 3, 4), rand(2, 5, 7)
    case("join_resize", "JoinImageWithAlpha", {"image": ("IMAGE", clean), "alpha": ("MASK", mask_small)},
         [("IMAGE", join_image_with_alpha(clean, mask_small))], "float")
    case("join_batch", "JoinImageWithAlpha", {"image": ("IMAGE", other),
                                              "alpha": ("MASK", mask_batch)},
         [("IMAGE", join_image_with_alpha(other, mask_batch))], "float")
    src_alpha, dst_alpha = rand(2, 5, 7), rand(2, 5, 7)
    src_alpha[0, 0, :3] = 1.0  # fully transparent source and destination pixels: output alpha 0
    dst_alpha[0, 0, :2] = 1.0
    source = image.nan_to_num(0.5)
    for mode in PORTER_DUFF:
        out = porter_duff_image_composite(source, src_alpha, clean, dst_alpha, mode)
        case(f"porter_duff_{mode}", "PorterDuffImageComposite",
             {"source": ("IMAGE", source), "source_alpha": ("MASK", src_alpha),
              "destination": ("IMAGE", clean), "destination_alpha": ("MASK", dst_alpha)},
             [("IMAGE", out[0]), ("MASK", out[1])], "float", mode=mode)
    small_alpha = rand(1, 3, 4)
    out = porter_duff_image_composite(other, small_alpha, clean, small_alpha, "SRC_OVER")
    case("porter_duff_resized", "PorterDuffImageComposite",
         {"source": ("IMAGE", other), "source_alpha": ("MASK", small_alpha), "destination": ("IMAGE", clean),
          "destination_alpha": ("MASK", small_alpha)}, [("IMAGE", out[0]), ("MASK", out[1])], "float", mode="SRC_OVER")

    # 3. Filters: ImageBlend, every mode (and a resized image2).
    second = rand(2, 5, 7, 3)
    for i, mode in enumerate(["normal", "multiply", "screen", "overlay", "soft_light", "difference"]):
        case(f"blend_{mode}", "ImageBlend", {"image1": ("IMAGE", clean), "image2": ("IMAGE", second)},
             [("IMAGE", image_blend(clean, second, 0.3 + 0.1 * i, mode))], "float", blend_factor=0.3 + 0.1 * i,
             blend_mode=mode)
    case("blend_resized", "ImageBlend", {"image1": ("IMAGE", clean), "image2": ("IMAGE", tall.expand(2, 9, 4, 3))},
         [("IMAGE", image_blend(clean, tall.expand(2, 9, 4, 3), 0.75, "soft_light"))], "float", blend_factor=0.75,
         blend_mode="soft_light")

    # Lanczos on one channel (Pillow mode L), read by the test through the tensor API.
    gray = rand(2, 1, 6, 5)
    tensors["gray.input"] = gray
    tensors["gray.expected"] = common_upscale(gray, 9, 4, "lanczos", "disabled").contiguous()

    save_file(tensors, OUT, metadata={"cases": json.dumps(cases, sort_keys=True)})
    print(f"wrote {len(cases)} cases, {len(tensors)} tensors to {OUT}")


if __name__ == "__main__":
    main()
