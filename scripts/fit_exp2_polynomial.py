#!/usr/bin/env python3
"""Fits the polynomial of `vexp2NonPositive` (Sources/LatentflowTensor/VectorMath.swift) and
checks the whole float32 algorithm against float64 exp2.

2^x = 2^n · 2^(j/8) · 2^r with |r| <= 1/16; 2^r - 1 = r·(c1 + c2·r + c3·r²), the coefficients
minimizing the largest relative error of 2^r (Lawson's iteratively reweighted least squares,
which converges to the minimax fit). Run by hand: python3 scripts/fit_exp2_polynomial.py
"""
import numpy as np

HALF_WIDTH = 1 / 16
r = np.linspace(-HALF_WIDTH, HALF_WIDTH, 20001)
exact = np.exp2(r)
design = np.stack([r, r**2, r**3], 1) / exact[:, None]
target = (exact - 1) / exact
weights = np.ones_like(r)
for _ in range(200):
    root = np.sqrt(weights)
    coefficients, *_ = np.linalg.lstsq(design * root[:, None], target * root, rcond=None)
    error = np.abs(design @ coefficients - target)
    weights = weights * error
    weights /= weights.sum()
print("c1, c2, c3 =", ["%.9g" % np.float32(c) for c in coefficients])
print(f"largest relative error of 2^r: {np.max(np.abs(design @ coefficients - target)):.2e}")
print("2^(j/8) =", [float(v) for v in np.exp2(np.arange(8) / 8)])

# The Swift algorithm step by step in float32 (fused multiply-adds rounded once, through float64).
c1, c2, c3 = (np.float32(c) for c in coefficients)
f32 = np.float32
rng = np.random.default_rng(0)
x = np.concatenate([-rng.random(2_000_000) * 130, -rng.random(1_000_000) * 2]).astype(f32)
x = np.maximum(x, f32(-125))
magic = f32(1_572_864.0)
shifted = (x + magic).astype(f32)
rest = (x - (shifted - magic).astype(f32)).astype(f32)
p = (c3.astype(np.float64) * rest + c2).astype(f32)
p = (p.astype(np.float64) * rest + c1).astype(f32)
power_minus_one = (p * rest).astype(f32)
eighths = np.round((shifted - magic).astype(np.float64) * 8).astype(np.int64)
table = np.exp2(np.arange(8) / 8).astype(f32)
t = (table[eighths & 7] * np.exp2((eighths >> 3).astype(np.float64))).astype(f32)
result = (t.astype(np.float64) * power_minus_one + t).astype(f32)
reference = np.exp2(x.astype(np.float64))
ulps = np.abs(result - reference) / np.spacing(reference.astype(f32)).astype(np.float64)
print(f"float32 algorithm against exp2: largest {ulps.max():.2f} ulp, mean {ulps.mean():.2f} ulp")
