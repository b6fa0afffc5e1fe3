#!/usr/bin/env python3
"""Latentflow's 4x RRDBNet (ESRGAN / Real-ESRGAN x4plus: nf 64, nb 23, random weights) over
spandrel's in PyTorch float32 on the CPU, in one run: PyTorch's time first, then
`latentflow-tools bench --models --only RRDBNet --upscale-size SIZE --json` on the same
machine right after. A ratio below 1 means Latentflow is faster.

Run by hand, after `swift build -c release --product latentflow-tools`:
  /work/venv-torch/bin/python scripts/compare_upscale_with_pytorch.py --size 512 --threads 2
(the issue's case is 512 -> 2048; on 2 cores a smaller --size takes minutes less).
"""
import argparse
import json
import os
import statistics
import subprocess
import time

import torch
from spandrel.architectures.ESRGAN import ESRGAN

parser = argparse.ArgumentParser()
parser.add_argument("--size", type=int, default=512)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--repeats", type=int, default=1)
args = parser.parse_args()

torch.set_num_threads(args.threads)
torch.manual_seed(0)
model = ESRGAN(in_nc=3, out_nc=3, num_filters=64, num_blocks=23, scale=4).eval()
image = torch.rand(1, 3, args.size, args.size)
times = []
with torch.inference_mode():
    model(image[:, :, :32, :32])  # warm-up (allocator, kernels)
    for _ in range(args.repeats):
        start = time.perf_counter()
        out = model(image)
        times.append(time.perf_counter() - start)
assert out.shape == (1, 3, 4 * args.size, 4 * args.size)
pytorch = statistics.median(times)

binary = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".build", "release", "latentflow-tools")
command = [binary, "bench", "--models", "--only", "RRDBNet", "--json", "--repeats", str(3 * args.repeats),
           "--threads", str(args.threads), "--upscale-size", str(args.size)]
results = json.loads(subprocess.check_output(command))["results"]
ours = next(r for r in results if r["name"].startswith("RRDBNet"))
print(f"torch {torch.__version__}, {args.threads} threads, RRDBNet x4 {args.size} -> {4 * args.size}")
print(f"PyTorch float32 {pytorch:8.2f} s   Latentflow {ours['seconds']:8.2f} s   ratio {ours['seconds'] / pytorch:.2f}")
