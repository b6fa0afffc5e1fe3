#!/usr/bin/env python3
"""LotusConditioning's tensor from ComfyUI v0.3.64's own node (run by hand, never by CI).

    /work/venv-torch/bin/python scripts/make_lotus_conditioning.py /work/comfy0364 /work/cextra

Runs `comfy_extras/nodes_lotus.py` LotusConditioning (Lotus's frozen null-prompt embedding, which
ComfyUI inlines) and writes its one CONDITIONING tensor:
- Sources/LatentflowNodes/Conditioning/Resources/lotus_conditioning.safetensors, float16 (every value
  ComfyUI inlines is a float16 number, checked here), the resource our node ships;
- Tests/LatentflowNodesTests/Fixtures/lotus_conditioning_reference.safetensors, float32, the test's
  reference, with its shape and the SHA-256 of its float32 bytes in the metadata.
"""
import asyncio
import hashlib
import os
import sys

import torch
from safetensors.torch import save_file

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(SCRIPTS, "..")
RESOURCE = os.path.join(ROOT, "Sources", "LatentflowNodes", "Conditioning", "Resources", "lotus_conditioning.safetensors")
REFERENCE = os.path.join(ROOT, "Tests", "LatentflowNodesTests", "Fixtures", "lotus_conditioning_reference.safetensors")


def main():
    comfyui, extras = sys.argv[1], sys.argv[2:]
    sys.path.insert(0, SCRIPTS)
    from comfyui_boot import boot
    boot(comfyui)
    import utils.install_util  # noqa: F401  (ComfyUI's own `utils` before the extras can shadow it)
    sys.path += extras
    import comfyui_version
    import nodes
    asyncio.run(nodes.init_builtin_extra_nodes())
    node = nodes.NODE_CLASS_MAPPINGS["LotusConditioning"]
    (conditioning,) = node.execute().args
    assert len(conditioning) == 1 and conditioning[0][1] == {}, conditioning
    tensor = conditioning[0][0].float().contiguous()
    half = tensor.half()
    assert torch.equal(half.float(), tensor), "LotusConditioning holds values float16 cannot represent"
    digest = hashlib.sha256(tensor.numpy().tobytes()).hexdigest()
    metadata = {"comfyui_version": comfyui_version.__version__, "torch": torch.__version__,
                "shape": "x".join(str(d) for d in tensor.shape), "sha256_float32": digest}
    os.makedirs(os.path.dirname(RESOURCE), exist_ok=True)
    save_file({"conditioning": half}, RESOURCE, metadata=metadata)
    save_file({"conditioning": tensor}, REFERENCE, metadata=metadata)
    print("shape", list(tensor.shape), "sha256", digest)
    print("wrote", os.path.normpath(RESOURCE), "and", os.path.normpath(REFERENCE))


if __name__ == "__main__":
    main()
