"""Reference noise from PyTorch's CPU generator, for TorchCPUGenerator's tests.

Run by hand (never by CI):  pip install torch safetensors && python3 scripts/make_noise_fixtures.py
Each case NAME holds `torch.manual_seed(seed); torch.randn(shape)` (ComfyUI's prepare_noise
without batch_index), or ComfyUI's batch_index rule, e.g. for case seed42_1x4x8x8:
    python3 -c "import torch; torch.manual_seed(42); print(torch.randn(1, 4, 8, 8))"
PyTorch's float32 randn takes the AVX2 path on AVX2 machines; this script records which path
the machine that ran it took (torch.backends.cpu.get_cpu_capability()).
"""
import json
import os

import numpy as np
import torch
from safetensors.torch import save_file


def prepare_noise(shape, seed, noise_inds=None):
    """ComfyUI comfy/sample.py prepare_noise, restated."""
    generator = torch.manual_seed(seed)
    if noise_inds is None:
        return torch.randn(shape, dtype=torch.float32, generator=generator, device="cpu")
    unique_inds, inverse = np.unique(noise_inds, return_inverse=True)
    noises = []
    for i in range(unique_inds[-1] + 1):
        noise = torch.randn([1] + list(shape)[1:], dtype=torch.float32, generator=generator, device="cpu")
        if i in unique_inds:
            noises.append(noise)
    return torch.cat([noises[i] for i in inverse], axis=0)


cases = {}
tensors = {}
for seed, shape, inds in [
    (0, (1, 4, 8, 8), None),
    (42, (1, 4, 8, 8), None),
    (42, (2, 4, 9, 7), None),           # 504 elements: not a multiple of 16
    (2**32 + 7, (1, 4, 8, 8), None),    # only the low 32 bits seed the engine
    (2**63 + 12345, (1, 4, 5, 5), None),
    (123456789, (1, 4, 64, 64), None),  # a 512x512 latent
    (7, (1, 3, 5, 7), None),            # 105 elements
    (99, (3, 4, 5, 5), [2, 0, 2]),      # batch_index with repeats and a gap
]:
    name = f"seed{seed}_{'x'.join(map(str, shape))}" + (f"_inds{'-'.join(map(str, inds))}" if inds else "")
    tensors[name] = prepare_noise(shape, seed, inds).contiguous()
    cases[name] = {"seed": str(seed), "shape": list(shape), "batch_index": inds}

out = os.path.join(os.path.dirname(__file__), "..", "Tests", "LatentflowSamplingTests", "Fixtures", "noise.safetensors")
save_file(tensors, out, metadata={"cases": json.dumps(cases), "torch": torch.__version__,
                                  "cpu_capability": torch.backends.cpu.get_cpu_capability()})
print("wrote", len(cases), "cases; cpu capability", torch.backends.cpu.get_cpu_capability())
