#!/usr/bin/env python3
"""Writes the UNet patch fixtures: Tests/LatentflowModelsTests/Fixtures/unet_patches.safetensors and
two tiny A1111 hypernetworks (hypernetwork_tiny.pt, hypernetwork_mish.pt) beside it.

Run by hand, never by CI:  /work/venv-torch/bin/python scripts/make_unet_patch_fixtures.py

Each reference below is a transcription, in torch on CPU and float32, of the ComfyUI (v0.3.6x)
function it is named after, read from ComfyUI's source:
- comfy_extras/nodes_freelunch.py: `Fourier_filter` and the FreeU / FreeU_V2 `output_block_patch`;
- comfy_extras/nodes_model_downscale.py: `PatchModelAddDownscale`'s two patches (common_upscale);
- comfy_extras/nodes_hypertile.py: `random_divisor`, `find_hw_candidates`, the q rearrangement;
- comfy_extras/nodes_hypernetwork.py: `load_hypernetwork_patch` and `hypernetwork_patch.__call__`
  (modules put in eval mode: see the note at `hypernet_modules`);
- comfy_extras/nodes_lora_extract.py: `extract_lora` after its SVD (the SVD's U, S, Vh are stored
  so the Swift side can run the rest on the same factors; SVD signs are arbitrary).
The `cases` metadata (JSON) holds each case's parameters.
"""

import json
import math
import os
import random
import sys

import torch
from einops import rearrange
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from comfy_utils_reference import common_upscale  # noqa: E402

torch.set_num_threads(1)
torch.manual_seed(20261201)
FIXTURES = os.path.join(os.path.dirname(__file__), "..", "Tests", "LatentflowModelsTests", "Fixtures")
tensors, cases = {}, {}


# --- FreeU ----------------------------------------------------------------------------------------
def fourier_filter(x, threshold, scale):
    x_freq = torch.fft.fftn(x.float(), dim=(-2, -1))
    x_freq = torch.fft.fftshift(x_freq, dim=(-2, -1))
    B, C, H, W = x_freq.shape
    mask = torch.ones((B, C, H, W), device=x.device)
    crow, ccol = H // 2, W // 2
    mask[..., crow - threshold:crow + threshold, ccol - threshold:ccol + threshold] = scale
    x_freq = x_freq * mask
    x_freq = torch.fft.ifftshift(x_freq, dim=(-2, -1))
    return torch.fft.ifftn(x_freq, dim=(-2, -1)).real.to(x.dtype)


def freeu_patch(model_channels, b1, b2, s1, s2, v2):
    scale_dict = {model_channels * 4: (b1, s1), model_channels * 2: (b2, s2)}

    def output_block_patch(h, hsp):
        h, hsp = h.clone(), hsp.clone()
        scale = scale_dict.get(int(h.shape[1]), None)
        if scale is not None:
            if v2:
                hidden_mean = h.mean(1).unsqueeze(1)
                B = hidden_mean.shape[0]
                hidden_max, _ = torch.max(hidden_mean.view(B, -1), dim=-1, keepdim=True)
                hidden_min, _ = torch.min(hidden_mean.view(B, -1), dim=-1, keepdim=True)
                hidden_mean = (hidden_mean - hidden_min.unsqueeze(2).unsqueeze(3)) / (
                    hidden_max - hidden_min).unsqueeze(2).unsqueeze(3)
                h[:, :h.shape[1] // 2] = h[:, :h.shape[1] // 2] * ((scale[0] - 1) * hidden_mean + 1)
            else:
                h[:, :h.shape[1] // 2] = h[:, :h.shape[1] // 2] * scale[0]
            hsp = fourier_filter(hsp, threshold=1, scale=scale[1])
        return h, hsp

    return output_block_patch


for name, shape, threshold, scale in [
        ("even", [2, 3, 8, 6], 1, 0.2), ("odd", [1, 2, 7, 5], 1, 0.9), ("thin", [1, 2, 1, 4], 1, 0.5),
        ("two", [1, 1, 2, 3], 1, 1.7), ("wide_threshold", [1, 2, 6, 9], 2, 0.3),
        ("slice_wraps", [1, 1, 3, 2], 2, 0.4)]:
    x = torch.randn(shape)
    tensors[f"fourier_{name}.x"] = x
    tensors[f"fourier_{name}.expected"] = fourier_filter(x, threshold, scale)
    cases[f"fourier_{name}"] = {"threshold": threshold, "scale": scale}

for name, channels, v2 in [("v1_deep", 16, False), ("v1_mid", 8, False), ("v1_other", 12, False),
                           ("v2_deep", 16, True), ("v2_mid", 8, True)]:
    h, hsp = torch.randn(2, channels, 6, 5), torch.randn(2, channels, 6, 5)
    params = {"model_channels": 4, "b1": 1.3, "b2": 1.4, "s1": 0.9, "s2": 0.2}
    out_h, out_hsp = freeu_patch(**params, v2=v2)(h, hsp)
    tensors.update({f"freeu_{name}.h": h, f"freeu_{name}.hsp": hsp,
                    f"freeu_{name}.expected_h": out_h, f"freeu_{name}.expected_hsp": out_hsp})
    cases[f"freeu_{name}"] = params | {"v2": v2}


# --- Deep Shrink -----------------------------------------------------------------------------------
def deep_shrink_input(h, downscale_factor, downscale_method):
    return common_upscale(h, round(h.shape[-1] * (1.0 / downscale_factor)),
                          round(h.shape[-2] * (1.0 / downscale_factor)), downscale_method, "disabled")


def deep_shrink_output(h, hsp, upscale_method):
    if h.shape[2] != hsp.shape[2]:
        h = common_upscale(h, hsp.shape[-1], hsp.shape[-2], upscale_method, "disabled")
    return h


for name, shape, factor, down, up in [("half_bicubic", [1, 3, 9, 7], 2.0, "bicubic", "bicubic"),
                                      ("third_bilinear", [2, 2, 10, 12], 3.0, "bilinear", "nearest-exact"),
                                      ("area", [1, 2, 8, 8], 1.5, "area", "area"),
                                      ("nearest", [1, 2, 5, 6], 2.5, "nearest-exact", "bilinear")]:
    h = torch.randn(shape)
    shrunk = deep_shrink_input(h, factor, down)
    skip = torch.randn(shape)
    tensors.update({f"shrink_{name}.h": h, f"shrink_{name}.expected_shrunk": shrunk,
                    f"shrink_{name}.expected_restored": deep_shrink_output(shrunk, skip, up)})
    cases[f"shrink_{name}"] = {"factor": factor, "downscale_method": down, "upscale_method": up}


# --- HyperTile -------------------------------------------------------------------------------------
def random_divisor(value, min_value, max_options=1, counter=0):
    min_value = min(min_value, value)
    divisors = [i for i in range(min_value, value + 1) if value % i == 0]
    ns = [value // i for i in divisors[:max_options]]
    random.seed(counter)
    idx = random.randint(0, len(ns) - 1)
    return ns[idx]


def iterative_closest_divisors(hw, aspect_ratio):
    divisors = [i for i in range(2, hw + 1) if hw % i == 0]
    pairs = [(i, hw // i) for i in divisors]
    ratios = [w / h for h, w in pairs]
    closest_ratio = min(ratios, key=lambda x: abs(x - aspect_ratio))
    return pairs[ratios.index(closest_ratio)]


def find_hw_candidates(hw, aspect_ratio):
    h, w = round(math.sqrt(hw * aspect_ratio)), round(math.sqrt(hw / aspect_ratio))
    if h * w != hw:
        w_candidate = hw / h
        if not w_candidate.is_integer():
            h_candidate = hw / w
            if not h_candidate.is_integer():
                return iterative_closest_divisors(hw, aspect_ratio)
            else:
                h = int(h_candidate)
        else:
            w = int(w_candidate)
    return h, w


divisor_draws = [[v, m, o, c, random_divisor(v, m, o, c)] for v, m, o in [(64, 32, 2), (96, 8, 3), (48, 4, 6),
                                                                          (7, 4, 2), (128, 16, 5)]
                 for c in range(1, 40)]
hw_pairs = [[hw, ar, *find_hw_candidates(hw, ar)] for hw, ar in [(4096, 1.0), (3072, 0.75), (48, 8 / 6),
                                                                  (60, 1.5), (98, 2.0), (35, 0.6), (1920, 16 / 9)]]
cases["hypertile"] = {"random_divisor": divisor_draws, "hw_candidates": hw_pairs}

# One attn1 call: q [2, 96, 8] of an 8x12 latent, model_channels 8, tile_size 32 (4 latent pixels),
# swap_size 2, counter 1: the draw and the rearrangement, then the output patch on a fake output.
q = torch.randn(2, 96, 8)
h, w = find_hw_candidates(96, 12 / 8)
nh, nw = random_divisor(h, 4, 2, 1), random_divisor(w, 4, 2, 2)
tiled = rearrange(q, "b (nh h nw w) c -> (b nh nw) (h w) c", h=h // nh, w=w // nw, nh=nh, nw=nw)
out = torch.randn(tiled.shape)
untiled = rearrange(rearrange(out, "(b nh nw) hw c -> b nh nw hw c", nh=nh, nw=nw),
                    "b nh nw (h w) c -> b (nh h nw w) c", h=h // nh, w=w // nw)
tensors.update({"hypertile.q": q, "hypertile.expected_q": tiled, "hypertile.out": out,
                "hypertile.expected_out": untiled})
cases["hypertile_call"] = {"nh": nh, "nw": nw, "h": h, "w": w}


# --- Hypernetworks ---------------------------------------------------------------------------------
def a1111_module(width, structure, layer_norm, activation, activate_output, dtype):
    """A1111's HypernetworkModule state dict: Sequential indices Linear, activation, LayerNorm, Dropout."""
    state, index = {}, 0
    for i in range(len(structure) - 1):
        fan_in, fan_out = int(width * structure[i]), int(width * structure[i + 1])
        state[f"linear.{index}.weight"] = (torch.randn(fan_out, fan_in) * 0.3).to(dtype)
        state[f"linear.{index}.bias"] = (torch.randn(fan_out) * 0.1).to(dtype)
        index += 1
        if activation != "linear" and (i < len(structure) - 2 or activate_output):
            index += 1
        if layer_norm:
            state[f"linear.{index}.weight"] = (1 + 0.2 * torch.randn(fan_out)).to(dtype)
            state[f"linear.{index}.bias"] = (0.1 * torch.randn(fan_out)).to(dtype)
            index += 1
        index += 1  # dropout (no parameters)
    return state


def a1111_file(widths, structure, activation, layer_norm, dropout, activate_output, dtype):
    from collections import OrderedDict
    sd = {}
    for width in widths:
        sd[width] = tuple(OrderedDict(a1111_module(width, structure, layer_norm, activation, activate_output, dtype))
                          for _ in range(2))
    sd.update({"step": 100, "name": "tiny", "layer_structure": structure, "activation_func": activation,
               "is_layer_norm": layer_norm, "weight_initialization": "Normal", "sd_checkpoint": None,
               "sd_checkpoint_name": None, "activate_output": activate_output, "use_dropout": dropout,
               "dropout_structure": [0.0] + [0.3] * (len(structure) - 2) + [0.0], "last_layer_dropout": False,
               "optional_info": None})
    return sd


VALID_ACTIVATION = {"linear": torch.nn.Identity, "relu": torch.nn.ReLU, "leakyrelu": torch.nn.LeakyReLU,
                    "elu": torch.nn.ELU, "swish": torch.nn.Hardswish, "tanh": torch.nn.Tanh,
                    "sigmoid": torch.nn.Sigmoid, "softsign": torch.nn.Softsign, "mish": torch.nn.Mish}


def hypernet_modules(sd):
    """load_hypernetwork_patch's module building. ComfyUI leaves these modules in training mode, so its
    Dropout layers drop at random; the reference is taken in eval mode (Dropout as identity)."""
    activation_func = sd.get("activation_func", "linear")
    is_layer_norm, use_dropout = sd.get("is_layer_norm", False), sd.get("use_dropout", False)
    activate_output, last_layer_dropout = sd.get("activate_output", False), sd.get("last_layer_dropout", False)
    out = {}
    for d in sd:
        try:
            dim = int(d)
        except (TypeError, ValueError):
            continue
        output = []
        for index in [0, 1]:
            attn_weights = sd[dim][index]
            linears = [k[:-len(".weight")] for k in attn_weights.keys() if k.endswith(".weight")]
            layers, i = [], 0
            while i < len(linears):
                lin_name = linears[i]
                last_layer, penultimate_layer = i == len(linears) - 1, i == len(linears) - 2
                lin_weight, lin_bias = attn_weights[f"{lin_name}.weight"], attn_weights[f"{lin_name}.bias"]
                layer = torch.nn.Linear(lin_weight.shape[1], lin_weight.shape[0])
                layer.load_state_dict({"weight": lin_weight, "bias": lin_bias})
                layers.append(layer)
                if activation_func != "linear":
                    if (not last_layer) or activate_output:
                        layers.append(VALID_ACTIVATION[activation_func]())
                if is_layer_norm:
                    i += 1
                    ln_name = linears[i]
                    ln = torch.nn.LayerNorm(attn_weights[f"{ln_name}.weight"].shape[0])
                    ln.load_state_dict({"weight": attn_weights[f"{ln_name}.weight"],
                                        "bias": attn_weights[f"{ln_name}.bias"]})
                    layers.append(ln)
                if use_dropout:
                    if (not last_layer) and (not penultimate_layer or last_layer_dropout):
                        layers.append(torch.nn.Dropout(p=0.3))
                i += 1
            output.append(torch.nn.Sequential(*layers).eval())
        out[dim] = torch.nn.ModuleList(output)
    return out


def hypernet_call(modules, k, v, strength):
    dim = k.shape[-1]
    if dim in modules:
        hn = modules[dim]
        k = k + hn[0](k) * strength
        v = v + hn[1](v) * strength
    return k, v


# hypernetwork_tiny.pt fits the tiny SD1.5 model (attention widths 32 and 64), float16.
for file_name, sd, strength in [
        ("hypernetwork_tiny.pt", a1111_file([32, 64], [1, 0.5, 1], "relu", True, True, False, torch.float16), 0.7),
        ("hypernetwork_mish.pt", a1111_file([8], [1, 2, 1.5, 1], "mish", False, False, True, torch.float32), -1.3)]:
    torch.save(sd, os.path.join(FIXTURES, file_name))
    reloaded = torch.load(os.path.join(FIXTURES, file_name), weights_only=True)
    modules = hypernet_modules(reloaded)
    stem = file_name[:-3]
    with torch.no_grad():
        for width in [8, 12, 32, 64]:
            k, v = torch.randn(2, 5, width), torch.randn(2, 3, width)
            ek, ev = hypernet_call(modules, k, v, strength)
            tensors.update({f"{stem}_{width}.k": k, f"{stem}_{width}.v": v,
                            f"{stem}_{width}.expected_k": ek.contiguous(), f"{stem}_{width}.expected_v": ev.contiguous()})
    cases[stem] = {"file": file_name, "strength": strength, "widths": [8, 12, 32, 64]}

# Every activation ComfyUI accepts, on values spanning each one's branches.
points = torch.tensor([-30.0, -21.0, -4.0, -3.0, -1.0, -0.25, 0.0, 0.3, 1.0, 2.9, 3.0, 5.0, 19.0, 21.0, 40.0])
tensors["activations.x"] = points
for name, module in VALID_ACTIVATION.items():
    tensors[f"activations.{name}"] = module()(points)


# --- LoRA extraction -------------------------------------------------------------------------------
CLAMP_QUANTILE = 0.99


def extract_lora_after_svd(diff_shape, U, S, Vh, rank):
    conv2d = len(diff_shape) == 4
    kernel_size = None if not conv2d else diff_shape[2:4]
    out_dim, in_dim = diff_shape[0:2]
    rank = min(rank, in_dim, out_dim)
    U = U[:, :rank]
    S = S[:rank]
    U = U @ torch.diag(S)
    Vh = Vh[:rank, :]
    dist = torch.cat([U.flatten(), Vh.flatten()])
    hi_val = torch.quantile(dist, CLAMP_QUANTILE)
    low_val = -hi_val
    U = U.clamp(low_val, hi_val)
    Vh = Vh.clamp(low_val, hi_val)
    if conv2d:
        U = U.reshape(out_dim, rank, 1, 1)
        Vh = Vh.reshape(rank, in_dim, kernel_size[0], kernel_size[1])
    return U, Vh


def flattened(diff):
    if diff.ndim == 4:
        return diff.flatten(start_dim=1) if tuple(diff.shape[2:4]) != (1, 1) else diff.squeeze()
    return diff


for name, shape, rank in [("linear", [12, 9], 3), ("tall", [5, 14], 8), ("conv3x3", [6, 4, 3, 3], 4),
                          ("conv1x1", [7, 5, 1, 1], 2), ("full", [4, 4], 4)]:
    base = torch.randn(shape[0], 3) @ torch.randn(3, math.prod(shape[1:])) + 0.05 * torch.randn(
        shape[0], math.prod(shape[1:]))
    diff = base.reshape(shape)
    U, S, Vh = torch.linalg.svd(flattened(diff).float())
    up, down = extract_lora_after_svd(list(shape), U, S, Vh, rank)
    r = min(rank, shape[0], shape[1])
    truncated = (U[:, :r] * S[:r]) @ Vh[:r]
    tensors.update({f"lora_{name}.diff": diff, f"lora_{name}.U": U.contiguous(), f"lora_{name}.S": S,
                    f"lora_{name}.Vh": Vh.contiguous(), f"lora_{name}.expected_up": up.contiguous(),
                    f"lora_{name}.expected_down": down.contiguous(), f"lora_{name}.truncated": truncated})
    cases[f"lora_{name}"] = {"rank": rank}

quantile_values = torch.randn(37)
tensors["quantile.values"] = quantile_values
tensors["quantile.expected"] = torch.quantile(quantile_values, CLAMP_QUANTILE).reshape(1)

save_file({k: v.contiguous().clone() for k, v in tensors.items()}, os.path.join(FIXTURES, "unet_patches.safetensors"),
          metadata={"cases": json.dumps(cases)})
print("wrote", len(tensors), "tensors")
