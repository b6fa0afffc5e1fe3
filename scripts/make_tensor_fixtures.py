"""Reference outputs for the tensor module's op tests, computed by PyTorch on CPU in float32.

Run by hand (never by CI) after changing a case:
    pip install torch safetensors
    python3 scripts/make_tensor_fixtures.py
Writes Tests/LatentflowTensorTests/Fixtures/ops.safetensors: for each case NAME the tensors
NAME.<input> and NAME.expected, and in __metadata__ a JSON object NAME -> parameters.
"""
import json
import os

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

torch.manual_seed(20261123)
tensors, params = {}, {}


def case(name, inputs, expected, **p):
    for key, value in inputs.items():
        tensors[f"{name}.{key}"] = value.clone().contiguous()
    tensors[f"{name}.expected"] = expected.clone().contiguous()
    params[name] = p


def r(*shape, scale=1.0):
    return torch.randn(*shape) * scale


# --- GEMM -----------------------------------------------------------------------------------
a, b = r(2, 3, 17, 33), r(2, 3, 33, 19)
case("matmul_batched", {"a": a, "b": b}, a @ b)
a, b = r(5, 17, 33), r(33, 19)
case("matmul_shared", {"a": a, "b": b}, a @ b)
a, b = r(3, 40, 24), r(3, 31, 24)
case("matmul_transposed", {"a": a, "b": b}, a @ b.transpose(-1, -2), transpose_other=True)
x, w, bias = r(2, 7, 33), r(19, 33), r(19)
case("linear", {"x": x, "weight": w, "bias": bias}, F.linear(x, w, bias))
x, w = r(300, 64), r(200, 64)
case("linear_large_nobias", {"x": x, "weight": w}, F.linear(x, w))

# --- Convolution ----------------------------------------------------------------------------
for name, shape, wshape, stride, pad in [
    ("conv3x3", (2, 8, 13, 11), (6, 8, 3, 3), 1, (1, 1, 1, 1)),
    ("conv3x3_stride2", (1, 5, 12, 9), (7, 5, 3, 3), 2, (1, 1, 1, 1)),
    ("conv1x1", (2, 16, 9, 10), (12, 16, 1, 1), 1, (0, 0, 0, 0)),
    ("conv3x3_wide", (1, 32, 40, 40), (16, 32, 3, 3), 1, (1, 1, 1, 1)),
    # Odd sizes and a batch through the Winograd path (3x3, stride 1, padding 1, width >= 32).
    ("conv3x3_winograd_odd", (2, 12, 17, 35), (10, 12, 3, 3), 1, (1, 1, 1, 1)),
    # The VAE's downsampler: F.pad(x, (0, 1, 0, 1)) then a stride-2 3x3 convolution.
    ("conv_vae_down", (1, 4, 10, 10), (4, 4, 3, 3), 2, (0, 1, 0, 1)),
    ("conv7x7_nopad", (1, 3, 11, 12), (2, 3, 7, 7), 1, (0, 0, 0, 0)),
]:
    x, w, bias = r(*shape), r(*wshape, scale=0.2), r(wshape[0])
    top, bottom, left, right = pad
    y = F.conv2d(F.pad(x, (left, right, top, bottom)), w, bias, stride=stride)
    case(name, {"x": x, "weight": w, "bias": bias}, y, stride=stride, padding=list(pad))

# --- Normalization and softmax --------------------------------------------------------------
x, g, bias = r(2, 32, 5, 7, scale=3.0) + 1.5, r(32), r(32)
case("group_norm", {"x": x, "weight": g, "bias": bias}, F.group_norm(x, 8, g, bias, 1e-5), groups=8, eps=1e-5)
case("group_norm_silu", {"x": x, "weight": g, "bias": bias}, F.silu(F.group_norm(x, 32, g, bias, 1e-6)),
     groups=32, eps=1e-6)
x, g, bias = r(3, 5, 40, scale=2.0), r(40), r(40)
case("layer_norm", {"x": x, "weight": g, "bias": bias}, F.layer_norm(x, (40,), g, bias, 1e-5), eps=1e-5)
x = r(4, 7, 33, scale=8.0)
case("softmax", {"x": x}, torch.softmax(x, dim=-1))

# --- Attention ([B, N, heads*d] in and out, as the model layers use it) ------------------------
def sdpa(q, k, v, heads, causal=False):
    def split(t):
        return t.reshape(t.shape[0], t.shape[1], heads, -1).transpose(1, 2)
    out = F.scaled_dot_product_attention(split(q), split(k), split(v), is_causal=causal)
    return out.transpose(1, 2).reshape(q.shape[0], q.shape[1], -1)

q, k, v = r(2, 37, 32), r(2, 45, 32), r(2, 45, 24)
case("attention_cross", {"q": q, "k": k, "v": v}, sdpa(q, k, v, 4), heads=4, causal=False)
q, k, v = r(2, 37, 32), r(2, 37, 32), r(2, 37, 32)
case("attention_causal", {"q": q, "k": k, "v": v}, sdpa(q, k, v, 2, causal=True), heads=2, causal=True)
q, k, v = r(1, 300, 16, scale=2.0), r(1, 1000, 16, scale=2.0), r(1, 1000, 16)
case("attention_tiled", {"q": q, "k": k, "v": v}, sdpa(q, k, v, 2), heads=2, causal=False)
# SD1.5's head width (40) over several 256-key blocks and a tail of query rows, plain and causal;
# widths 72 = 40 + 32 exercise the 40-column and the 8-column output kernels.
q, k, v = r(1, 301, 80), r(1, 517, 80), r(1, 517, 144)
case("attention_sd_blocks", {"q": q, "k": k, "v": v}, sdpa(q, k, v, 2), heads=2, causal=False)
q, k, v = r(1, 301, 80, scale=3.0), r(1, 301, 80, scale=3.0), r(1, 301, 80)
case("attention_sd_causal", {"q": q, "k": k, "v": v}, sdpa(q, k, v, 2, causal=True), heads=2, causal=True)

# --- Elementwise ---------------------------------------------------------------------------
x = torch.cat([torch.linspace(-12, 12, 997), torch.tensor([-100.0, -30.0, 0.0, 30.0, 100.0])])
case("silu", {"x": x}, F.silu(x))
case("gelu", {"x": x}, F.gelu(x))
case("quick_gelu", {"x": x}, x * torch.sigmoid(1.702 * x))
case("sigmoid", {"x": x}, torch.sigmoid(x))
case("clamp", {"x": x}, x.clamp(-1.0, 1.0), min=-1.0, max=1.0)
case("scale", {"x": x}, x * 0.18215 + 0.5, scale=0.18215, offset=0.5)
for name, sa, sb, op in [
    ("add_channel_bias", (2, 3, 4, 5), (3, 1, 1), torch.add),
    ("mul_per_sample", (2, 3, 4, 5), (2, 3, 1, 1), torch.mul),
    ("div_last_dim", (4, 5), (5,), torch.div),
    ("sub_outer", (1, 5), (4, 1), torch.sub),
    ("add_same", (3, 70), (3, 70), torch.add),
]:
    a, b = r(*sa), r(*sb)
    if op is torch.div:
        b = b.abs() + 0.5
    case(name, {"a": a, "b": b}, op(a, b), op=op.__name__)

# --- Shapes ---------------------------------------------------------------------------------
a, b = r(2, 3, 4), r(2, 5, 4)
case("concat", {"a": a, "b": b}, torch.cat([a, b], dim=1), axis=1)
x = r(2, 3, 4, 5)
case("permute", {"x": x}, x.permute(0, 2, 3, 1), order=[0, 2, 3, 1])
case("slice", {"x": x}, x[:, 1:3], axis=1, start=1, length=2)
case("pad", {"x": x}, F.pad(x, (2, 1, 0, 3)), padding=[0, 3, 2, 1])

# --- Resize (F.interpolate with size=..., align_corners=False; area = adaptive pooling) ------
x = r(1, 2, 7, 9)
for mode in ["nearest", "nearest-exact", "bilinear", "bicubic", "area"]:
    for (h, w) in [(13, 5), (3, 4), (14, 18)]:
        case(f"resize_{mode}_{h}x{w}", {"x": x}, F.interpolate(x, size=(h, w), mode=mode),
             mode=mode, height=h, width=w)

# --- Half precision -------------------------------------------------------------------------
x = torch.cat([r(200, scale=100.0), torch.tensor([0.0, -0.0, 65504.0, 1e-8, 3.0e38, -2.5e-5])])
case("float16", {"x": x}, x.half())
case("bfloat16", {"x": x}, x.bfloat16())

# --- Thin products on large weights (WeightStationaryGEMM) --------------------------------------
# Weights of at least 2^18 values and at most 96 columns, as at SD's deepest levels; odd sizes leave
# partial tiles of 6 weight rows and partial panels of 16 columns. Inputs are stored in float16
# (exactly: they are rounded first) to keep the file small; the products are float32.
def half(*shape, scale=1.0):
    return (torch.randn(*shape) * scale).half()

x, w, bias = half(2, 9, 260), half(1027, 260, scale=0.1), half(1027)
case("linear_thin", {"x": x, "weight": w, "bias": bias}, F.linear(x.float(), w.float(), bias.float()))
x, w, bias = half(2, 232, 5, 7), half(131, 232, 3, 3, scale=0.05), half(131)
case("conv3x3_deep", {"x": x, "weight": w, "bias": bias},
     F.conv2d(x.float(), w.float(), bias.float(), padding=1), stride=1, padding=[1, 1, 1, 1])
x, w, bias = half(1, 512, 3, 5), half(513, 512, 1, 1, scale=0.05), half(513)
case("conv1x1_deep", {"x": x, "weight": w, "bias": bias},
     F.conv2d(x.float(), w.float(), bias.float()), stride=1, padding=[0, 0, 0, 0])

out = os.path.join(os.path.dirname(__file__), "..", "Tests", "LatentflowTensorTests", "Fixtures", "ops.safetensors")
save_file(tensors, out, metadata={"cases": json.dumps(params, sort_keys=True),
                                  "torch": torch.__version__})
print(f"wrote {len(params)} cases, {os.path.getsize(out)} bytes to {os.path.normpath(out)}")
