"""Seeds past Int64.max, run through ComfyUI v0.3.64's own code (by hand, never by CI).

    /work/venv-torch/bin/python scripts/make_seed_range_fixtures.py /tmp/comfy0364 /tmp/cextra

ComfyUI's seed widgets go up to 2^64 - 1. Writes Tests/LatentflowNodesTests/Fixtures/seed_range.safetensors:
for each seed, ComfyUI's `comfy.sample.prepare_noise` on a 1x4x5x5 latent (KSampler's and RandomNoise's initial
noise) and its `ImageAddNoise` node on a fixed 1x3x4x3 image with strength 0.5.
"""
import json
import os
import sys

comfyui, extra = sys.argv[1], sys.argv[2]
sys.path.append(extra)  # after ComfyUI's own folders: it has a `utils` package of its own
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from comfyui_boot import boot  # noqa: E402

boot(comfyui)
import utils.install_util  # noqa: E402,F401  ComfyUI's `utils` package, before nodes.py puts comfy/ first on sys.path
import nodes  # noqa: E402,F401
import comfy.sample  # noqa: E402
import comfyui_version  # noqa: E402
import torch  # noqa: E402
from comfy_extras.nodes_images import ImageAddNoise  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

torch.set_num_threads(1)
SEEDS = [2**64 - 1, 2**63, 2**63 + 2**32 + 5]
image = (torch.arange(36, dtype=torch.float32).reshape(1, 3, 4, 3) / 36.0).contiguous()
tensors = {"image": image}
for seed in SEEDS:
    tensors[f"noise_{seed}"] = comfy.sample.prepare_noise(torch.zeros(1, 4, 5, 5), seed).contiguous()
    tensors[f"add_noise_{seed}"] = ImageAddNoise().repeat(image, seed, 0.5)[0].contiguous()
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "LatentflowNodesTests", "Fixtures",
                   "seed_range.safetensors")
save_file(tensors, out, metadata={"seeds": json.dumps([str(s) for s in SEEDS]), "strength": "0.5",
                                  "comfyui_version": comfyui_version.__version__, "torch": torch.__version__})
print("wrote", out)
