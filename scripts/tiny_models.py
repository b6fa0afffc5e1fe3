"""What the model fixture scripts share (run by hand, never by CI): their command line, where
their fixtures go, ComfyUI booted, and seeded random weights for tiny models."""
import argparse
import os
import sys

import torch

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
MODEL_FIXTURES = os.path.join(SCRIPTS, "..", "Tests", "LatentflowModelsTests", "Fixtures")


def boot_comfyui():
    """Parses `--comfyui PATH` (or COMFYUI_PATH) and makes that checkout importable."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--comfyui", default=os.environ.get("COMFYUI_PATH"))
    args = parser.parse_args()
    if not args.comfyui:
        sys.exit("pass --comfyui /path/to/ComfyUI (for its key tables and tokenizer)")
    sys.path.insert(0, SCRIPTS)
    from comfyui_boot import boot
    boot(args.comfyui)


def randomize(model, scale=0.2, round_to_float16=False):
    """Random weights everywhere (diffusers zero-initialises some output layers); norms near 1.
    With `round_to_float16` the weights are rounded once, for fixtures stored as float16 whose
    references must run on the same weights."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name and name.endswith("weight"):
                p.copy_(1 + 0.1 * torch.randn_like(p))
            else:
                p.copy_(scale * torch.randn_like(p))
    if round_to_float16:
        model = model.half().float()
    return model.eval()
