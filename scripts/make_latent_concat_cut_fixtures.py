#!/usr/bin/env python3
"""Writes Tests/LatentflowNodesTests/Fixtures/latent_concat_cut.safetensors: ComfyUI v0.3.64's own
LatentConcat and LatentCut (`comfy_extras/nodes_latent.py`, run from a checkout) along every dim,
with a batch to repeat and with indices past either end, in the case layout of
make_image_filter_fixtures.py (all "exact": the nodes copy values).

Run by hand, never by CI:
  /work/venv-torch/bin/python scripts/make_latent_concat_cut_fixtures.py /path/to/ComfyUI [extra sys.path ...]
"""

import json
import os
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from comfyui_boot import boot  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "LatentflowNodesTests", "Fixtures",
                   "latent_concat_cut.safetensors")


def main():
    sys.path += sys.argv[2:]
    boot(sys.argv[1])
    import comfy_extras.nodes_latent as latent

    torch.manual_seed(0)
    a, b = torch.randn(3, 4, 5, 6), torch.randn(1, 4, 5, 6)
    tensors = {"a": a, "b": b, "b2": torch.randn(2, 4, 5, 6)}
    cases = {}
    for dim in ["x", "-x", "y", "-y", "t", "-t"]:
        out = latent.LatentConcat().op({"samples": a}, {"samples": b}, dim)[0]["samples"]
        tensors[f"concat{dim}"] = out
        cases[f"concat{dim}"] = {"node": "LatentConcat", "inputs": {"samples1": ["LATENT", "a"], "samples2": ["LATENT", "b"]},
                                 "params": {"dim": ["STRING", dim]}, "outputs": [["LATENT", f"concat{dim}"]],
                                 "kind": "exact"}
    # samples2's batch of 2 repeated (and cut) to 3.
    tensors["concat_batch"] = latent.LatentConcat().op({"samples": a}, {"samples": tensors["b2"]}, "y")[0]["samples"]
    cases["concat_batch"] = {"node": "LatentConcat", "inputs": {"samples1": ["LATENT", "a"], "samples2": ["LATENT", "b2"]},
                             "params": {"dim": ["STRING", "y"]}, "outputs": [["LATENT", "concat_batch"]], "kind": "exact"}
    for dim, index, amount in [("x", 0, 1), ("x", 2, 3), ("x", 4, 9), ("x", 99, 2), ("x", -2, 1), ("x", -2, 5),
                               ("x", -99, 3), ("y", 1, 2), ("y", -1, 1), ("t", 1, 2), ("t", -3, 8)]:
        name = f"cut_{dim}_{index}_{amount}"
        tensors[name] = latent.LatentCut().op({"samples": a}, dim, index, amount)[0]["samples"].contiguous()
        cases[name] = {"node": "LatentCut", "inputs": {"samples": ["LATENT", "a"]},
                       "params": {"dim": ["STRING", dim], "index": ["INT", index], "amount": ["INT", amount]},
                       "outputs": [["LATENT", name]], "kind": "exact"}
    save_file(tensors, OUT, metadata={"cases": json.dumps(cases), "comfyui_version": "0.3.64"})
    print("wrote", OUT, len(cases), "cases", os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
