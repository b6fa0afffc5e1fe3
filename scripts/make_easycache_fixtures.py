#!/usr/bin/env python3
"""EasyCache references from ComfyUI v0.3.64's own code (run by hand, never by CI).

    /work/venv-torch/bin/python scripts/make_easycache_fixtures.py /tmp/comfy0364 /tmp/cextra

Writes Tests/LatentflowNodesTests/Fixtures/easycache_reference.safetensors: nodes.KSampler
(seed 7, 10 steps, cfg 3, euler, normal, 64x64 EmptyLatentImage) on the tiny checkpoint
(scripts/comfyui_tiny.py) with `comfy_extras/nodes_easycache.py` EasyCacheNode (a DIFFUSION_MODEL wrapper:
ComfyUI batches the positive and negative into one UNet call on the CPU) at several
reuse thresholds (`ksampler.<threshold>`, with ComfyUI's count of skipped steps in the metadata,
read from its log line), and without it (`ksampler.none`).
"""
import logging
import os
import re
import sys

import torch
from safetensors.torch import save_file

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(SCRIPTS, "..")
OUT = os.path.join(ROOT, "Tests", "LatentflowNodesTests", "Fixtures", "easycache_reference.safetensors")
THRESHOLDS = ["0.05", "0.2", "1.0"]


class SkipLog(logging.Handler):
    def __init__(self):
        super().__init__()
        self.skipped = None

    def emit(self, record):
        found = re.search(r"EasyCache - skipped (\d+)/", record.getMessage())
        if found:
            self.skipped = int(found.group(1))


def main():
    comfyui, extras = sys.argv[1], sys.argv[2:]
    sys.path.insert(0, SCRIPTS)
    from comfyui_boot import boot
    boot(comfyui)
    import utils.install_util  # noqa: F401  (ComfyUI's own `utils` before the extras can shadow it)
    sys.path += extras
    torch.set_num_threads(1)
    torch.set_grad_enabled(False)
    import comfy_extras.nodes_easycache as easycache
    import comfyui_tiny
    import comfyui_version
    import nodes

    log = SkipLog()
    logging.getLogger().addHandler(log)
    logging.getLogger().setLevel(logging.INFO)
    model = comfyui_tiny.load_checkpoint(os.path.join(ROOT, "models", "checkpoints", "latentflow-tiny-sd15.safetensors"))
    torch.manual_seed(2051)
    positive_t, negative_t = torch.randn(1, 5, 32), torch.randn(1, 5, 32)
    positive, negative = [[positive_t, {}]], [[negative_t, {}]]
    out = {"positive": positive_t, "negative": negative_t}
    metadata = {"comfyui_version": comfyui_version.__version__, "torch": torch.__version__,
                "ksampler": "seed 7, 10 steps, cfg 3, euler, normal, EmptyLatentImage 64x64",
                "easycache": "start_percent 0.15, end_percent 0.95"}
    (empty,) = nodes.EmptyLatentImage().generate(64, 64, 1)
    out["ksampler.none"] = nodes.KSampler().sample(model, 7, 10, 3.0, "euler", "normal", positive, negative, empty)[0]["samples"]
    for threshold in THRESHOLDS:
        patched = easycache.EasyCacheNode.execute(model, float(threshold), 0.15, 0.95, False).args[0]
        log.skipped = None
        samples = nodes.KSampler().sample(patched, 7, 10, 3.0, "euler", "normal", positive, negative, empty)[0]["samples"]
        out["ksampler." + threshold] = samples
        metadata["skipped." + threshold] = str(log.skipped)
        print("threshold", threshold, "skipped", log.skipped, "max abs change", float((samples - out["ksampler.none"]).abs().max()))
    save_file({k: t.contiguous() for k, t in out.items()}, OUT, metadata=metadata)
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
