"""Torch transcriptions of the `comfy/utils.py` helpers the fixture scripts need (run by hand, never
by CI): `common_upscale` (centre crop, then bislerp, Pillow's Lanczos or F.interpolate), `bislerp`,
`lanczos` and `repeat_to_batch_size`."""
import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def bislerp(samples, width, height):
    def slerp(b1, b2, r):
        c = b1.shape[-1]
        b1_norms = torch.norm(b1, dim=-1, keepdim=True)
        b2_norms = torch.norm(b2, dim=-1, keepdim=True)
        b1_normalized = b1 / b1_norms
        b2_normalized = b2 / b2_norms
        b1_normalized[b1_norms.expand(-1, c) == 0.0] = 0.0
        b2_normalized[b2_norms.expand(-1, c) == 0.0] = 0.0
        dot = (b1_normalized * b2_normalized).sum(1)
        omega = torch.acos(dot)
        so = torch.sin(omega)
        res = (torch.sin((1.0 - r.squeeze(1)) * omega) / so).unsqueeze(1) * b1_normalized \
            + (torch.sin(r.squeeze(1) * omega) / so).unsqueeze(1) * b2_normalized
        res *= (b1_norms * (1.0 - r) + b2_norms * r).expand(-1, c)
        res[dot > 1 - 1e-5] = b1[dot > 1 - 1e-5]
        res[dot < 1e-5 - 1] = (b1 * (1.0 - r) + b2 * r)[dot < 1e-5 - 1]
        return res

    def generate_bilinear_data(length_old, length_new):
        coords_1 = torch.arange(length_old, dtype=torch.float32).reshape((1, 1, 1, -1))
        coords_1 = F.interpolate(coords_1, size=(1, length_new), mode="bilinear")
        ratios = coords_1 - coords_1.floor()
        coords_1 = coords_1.to(torch.int64)
        coords_2 = torch.arange(length_old, dtype=torch.float32).reshape((1, 1, 1, -1)) + 1
        coords_2[:, :, :, -1] -= 1
        coords_2 = F.interpolate(coords_2, size=(1, length_new), mode="bilinear")
        return ratios, coords_1, coords_2.to(torch.int64)

    samples = samples.float()
    n, c, h, w = samples.shape
    ratios, coords_1, coords_2 = generate_bilinear_data(w, width)
    coords_1 = coords_1.expand((n, c, h, -1))
    coords_2 = coords_2.expand((n, c, h, -1))
    ratios = ratios.expand((n, 1, h, -1))
    pass_1 = samples.gather(-1, coords_1).movedim(1, -1).reshape((-1, c))
    pass_2 = samples.gather(-1, coords_2).movedim(1, -1).reshape((-1, c))
    result = slerp(pass_1, pass_2, ratios.movedim(1, -1).reshape((-1, 1)))
    result = result.reshape(n, h, width, c).movedim(-1, 1)

    ratios, coords_1, coords_2 = generate_bilinear_data(h, height)
    coords_1 = coords_1.reshape((1, 1, -1, 1)).expand((n, c, -1, width))
    coords_2 = coords_2.reshape((1, 1, -1, 1)).expand((n, c, -1, width))
    ratios = ratios.reshape((1, 1, -1, 1)).expand((n, 1, -1, width))
    pass_1 = result.gather(-2, coords_1).movedim(1, -1).reshape((-1, c))
    pass_2 = result.gather(-2, coords_2).movedim(1, -1).reshape((-1, c))
    result = slerp(pass_1, pass_2, ratios.movedim(1, -1).reshape((-1, 1)))
    return result.reshape(n, height, width, c).movedim(-1, 1)


def lanczos(samples, width, height):
    # ComfyUI squeezes one channel to a 2-D array (Pillow mode L); three channels are mode RGB.
    samples = samples.squeeze(1) if samples.shape[1] == 1 else samples.movedim(1, -1)
    images = [Image.fromarray(np.clip(255. * image.numpy(), 0, 255).astype(np.uint8)) for image in samples]
    images = [image.resize((width, height), resample=Image.Resampling.LANCZOS) for image in images]
    arrays = [np.array(image).astype(np.float32) / 255.0 for image in images]
    return torch.stack([torch.from_numpy(t).movedim(-1, 0) if t.ndim == 3 else torch.from_numpy(t)[None] for t in arrays])


def common_upscale(samples, width, height, method, crop):
    if crop == "center":
        old_w, old_h = samples.shape[3], samples.shape[2]
        old_aspect, new_aspect = old_w / old_h, width / height
        x = y = 0
        if old_aspect > new_aspect:
            x = round((old_w - old_w * (new_aspect / old_aspect)) / 2)
        elif old_aspect < new_aspect:
            y = round((old_h - old_h * (old_aspect / new_aspect)) / 2)
        samples = samples.narrow(-2, y, old_h - y * 2).narrow(-1, x, old_w - x * 2)
    if method == "bislerp":
        return bislerp(samples, width, height)
    if method == "lanczos":
        return lanczos(samples, width, height)
    return F.interpolate(samples, size=(height, width), mode=method)


def repeat_to_batch_size(t, batch_size):
    if t.shape[0] > batch_size:
        return t[:batch_size]
    if t.shape[0] < batch_size:
        return t.repeat([math.ceil(batch_size / t.shape[0])] + [1] * (t.ndim - 1))[:batch_size]
    return t
