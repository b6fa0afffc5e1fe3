"""Writes Tests/LatentflowTensorTests/Fixtures/bfloat16_gemm.safetensors: PyTorch's bfloat16
rounding (`tensor.to(torch.bfloat16)`) of chosen float32 values, and products of random
matrices whose inputs are rounded to bfloat16, computed in float64 from the rounded values (the
exact products, summed far more exactly than any float32 kernel), for `BFloat16GEMMTests`.

Run by hand (never by CI): python3 scripts/make_bfloat16_fixtures.py
"""
import json
import os

import torch
from safetensors.torch import save_file

torch.manual_seed(0)
tensors = {}
cases = {}
# Ties (1 + 2^-8 lies halfway between 1 and the next bfloat16), values just either side of ties,
# negatives, subnormals, the largest floats (which round up to infinity), infinities.
special = torch.tensor([1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20, 1 + 2 ** -8 - 2 ** -20, -1.00390625,
                        3.1415927, -2.7182817, 1e-40, -3e-39, 3.4028235e38, 3.3961776e38, float("inf"),
                        float("-inf"), 0.0, -0.0, 65504.0, 1e-8], dtype=torch.float32)
values = torch.cat([special, torch.randn(4096) * torch.logspace(-6, 6, 4096)])
tensors["rounding.input"] = values
tensors["rounding.expected"] = values.to(torch.bfloat16).to(torch.float32)

# Shapes with partial register tiles (12 rows, 32 columns) and an odd depth, then whole tiles.
for name, (m, n, k) in {"ragged": (37, 75, 31), "tiled": (24, 64, 256), "deep": (13, 40, 1283)}.items():
    w = torch.randn(m, k)
    x = torch.randn(k, n) * 3
    c = torch.randn(m, n)
    product = w.to(torch.bfloat16).double() @ x.to(torch.bfloat16).double()
    tensors[f"{name}.w"] = w
    tensors[f"{name}.x"] = x
    tensors[f"{name}.c"] = c
    tensors[f"{name}.expected"] = product.float()
    tensors[f"{name}.accumulated"] = (c.double() + product).float()
    cases[name] = {"m": m, "n": n, "k": k}

# Layers in bfloat16 (the `--bf16-unet` mode): convolutions and a linear layer of random weights,
# with, per case, the float64 result of the bfloat16-rounded input and weight (what a bfloat16
# product with exact sums gives; the bias stays float32, as Latentflow adds it), the float64
# result of the float32 values (exact), and PyTorch's own bfloat16 layer (`.to(torch.bfloat16)`
# on input, weight and bias; its output is bfloat16 too) for the size of error it accepts.
import torch.nn.functional as F


def rounded(t):
    return t.to(torch.bfloat16).double()


layers = {
    # name: (input shape, weight shape, stride, padding)
    "conv1x1": ((2, 24, 9, 11), (40, 24, 1, 1), 1, 0),
    "conv3x3_stride2": ((2, 16, 17, 20), (24, 16, 3, 3), 2, 1),
    "conv3x3_same": ((1, 16, 40, 36), (24, 16, 3, 3), 1, 1),
}
for name, (xs, ws, stride, padding) in layers.items():
    x, w, b = torch.randn(xs), torch.randn(ws) / (ws[1] * ws[2] * ws[3]) ** 0.5, torch.randn(ws[0])
    tensors[f"{name}.x"], tensors[f"{name}.w"], tensors[f"{name}.b"] = x, w, b
    tensors[f"{name}.rounded"] = F.conv2d(rounded(x), rounded(w), b.double(), stride, padding).float()
    tensors[f"{name}.exact"] = F.conv2d(x.double(), w.double(), b.double(), stride, padding).float()
    tensors[f"{name}.pytorch_bfloat16"] = F.conv2d(
        x.to(torch.bfloat16), w.to(torch.bfloat16), b.to(torch.bfloat16), stride, padding).float()
    cases[name] = {"stride": stride, "padding": padding}
x, w, b = torch.randn(2, 50, 96), torch.randn(72, 96) / 96 ** 0.5, torch.randn(72)
tensors["linear.x"], tensors["linear.w"], tensors["linear.b"] = x, w, b
tensors["linear.rounded"] = F.linear(rounded(x), rounded(w), b.double()).float()
tensors["linear.exact"] = F.linear(x.double(), w.double(), b.double()).float()
tensors["linear.pytorch_bfloat16"] = F.linear(x.to(torch.bfloat16), w.to(torch.bfloat16), b.to(torch.bfloat16)).float()

out = os.path.join(os.path.dirname(__file__), "..", "Tests", "LatentflowTensorTests", "Fixtures",
                   "bfloat16_gemm.safetensors")
save_file({k: v.contiguous() for k, v in tensors.items()}, out, metadata={"cases": json.dumps(cases)})
print("wrote", out)
