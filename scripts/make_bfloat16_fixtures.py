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

out = os.path.join(os.path.dirname(__file__), "..", "Tests", "LatentflowTensorTests", "Fixtures",
                   "bfloat16_gemm.safetensors")
save_file({k: v.contiguous() for k, v in tensors.items()}, out, metadata={"cases": json.dumps(cases)})
print("wrote", out)
