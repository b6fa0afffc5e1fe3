"""Reference schedules for GITSScheduler (ComfyUI comfy_extras/nodes_gits.py).

Run by hand (never by CI) in a venv with numpy and torch:
    python3 scripts/make_gits_fixtures.py
Writes Tests/LatentflowSamplingTests/Fixtures/gits.json (a few tens of KB).

The NOISE_LEVELS table is data; Latentflow keeps it in Sources/LatentflowSampling/GITSNoiseLevels.swift,
which this script reads back and checks: 15 coeffs, row k holding k + 3 sigmas from 14.61464119 down to
0.02916753, strictly decreasing; values that occur only once in the table (where a mistyped digit would
show) are printed to be checked against nodes_gits.py. The schedules are then computed as `GITSScheduler.get_sigmas`
does: the row (or `loglinear_interp` of the 20-step row with np.linspace / np.interp / np.exp in float64),
the last total_steps + 1 values, the last set to 0, and torch.FloatTensor's float32.
"""
import json
import os
import re

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
FIXTURES = os.path.join(ROOT, "Tests", "LatentflowSamplingTests", "Fixtures")

source = open(os.path.join(ROOT, "Sources", "LatentflowSampling", "GITSNoiseLevels.swift")).read()
body = source[source.index("noiseLevels"):]
NOISE_LEVELS = {}
for match in re.finditer(r"(\d+): \[(.*?)\n        \],", body, re.S):
    rows = re.findall(r"\[([^\[\]]*)\]", match.group(2))
    NOISE_LEVELS[round(int(match.group(1)) / 100, 2)] = [[float(v) for v in row.replace("\n", " ").split(",") if v.strip()]
                                                         for row in rows]

assert sorted(NOISE_LEVELS) == [round(0.80 + 0.05 * k, 2) for k in range(15)], sorted(NOISE_LEVELS)
for coeff, rows in NOISE_LEVELS.items():
    assert len(rows) == 19, (coeff, len(rows))
    for k, row in enumerate(rows):
        assert len(row) == k + 3, (coeff, k, len(row))
        assert row[0] == 14.61464119 and row[-1] == 0.02916753, (coeff, k)
        assert all(a > b for a, b in zip(row, row[1:])), (coeff, k)
counts = {}
for rows in NOISE_LEVELS.values():
    for row in rows:
        for value in row:
            counts[value] = counts.get(value, 0) + 1
# A mistyped digit makes a value that occurs once: these few were checked against nodes_gits.py by eye.
print("values occurring once:", sorted(v for v, n in counts.items() if n == 1))


def loglinear_interp(t_steps, num_steps):
    xs = np.linspace(0, 1, len(t_steps))
    ys = np.log(t_steps[::-1])
    new_ys = np.interp(np.linspace(0, 1, num_steps), xs, ys)
    return np.exp(new_ys)[::-1].copy()


def gits(coeff, steps, denoise):
    total_steps = steps
    if denoise < 1.0:
        if denoise <= 0.0:
            return []
        total_steps = round(steps * denoise)
    if steps <= 20:
        sigmas = NOISE_LEVELS[round(coeff, 2)][steps - 2][:]
    else:
        sigmas = NOISE_LEVELS[round(coeff, 2)][-1][:]
        sigmas = loglinear_interp(sigmas, steps + 1)
    sigmas = sigmas[-(total_steps + 1):]
    sigmas[-1] = 0
    return [float(s) for s in torch.FloatTensor(sigmas)]


cases = []
for coeff in sorted(NOISE_LEVELS):
    for steps in [2, 3, 10, 19, 20, 21, 25, 50]:
        cases.append(dict(coeff=coeff, steps=steps, denoise=1.0, sigmas=gits(coeff, steps, 1.0)))
for coeff, steps, denoise in [(1.2, 10, 0.5), (1.2, 10, 0.25), (0.85, 7, 0.5), (1.5, 30, 0.6), (1.0, 2, 0.01),
                              (1.2, 10, 0.0), (1.2, 20, 0.45), (0.8, 1000, 1.0)]:
    cases.append(dict(coeff=coeff, steps=steps, denoise=denoise, sigmas=gits(coeff, steps, denoise)))
with open(os.path.join(FIXTURES, "gits.json"), "w") as f:
    json.dump({"cases": cases}, f)
print(f"checked {sum(len(r) for r in NOISE_LEVELS.values())} table rows; wrote {len(cases)} GITS cases")
