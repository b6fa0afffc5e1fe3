"""Torch transcriptions of the `comfy/utils.py` helpers the fixture scripts need (run by hand, never
by CI): `common_upscale` (centre crop, then F.interpolate) and `repeat_to_batch_size`."""
import math

import torch.nn.functional as F


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
    return F.interpolate(samples, size=(height, width), mode=method)


def repeat_to_batch_size(t, batch_size):
    if t.shape[0] > batch_size:
        return t[:batch_size]
    if t.shape[0] < batch_size:
        return t.repeat([math.ceil(batch_size / t.shape[0])] + [1] * (t.ndim - 1))[:batch_size]
    return t
