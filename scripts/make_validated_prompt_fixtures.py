"""The prompt as ComfyUI v0.3.64's validation leaves it (by hand, never by CI).

    /work/venv-torch/bin/python scripts/make_validated_prompt_fixtures.py /tmp/comfy0364 /tmp/cextra

`execution.validate_inputs` writes `int(v)`, `float(v)`, `str(v)` and `bool(v)` back into the prompt, which is
what SaveImage / SaveLatent then embed. This runs ComfyUI's own `execution.validate_prompt` on a prompt whose
widget constants come in other forms (a whole FLOAT as an int, an INT as a float and as a string, a STRING as an
int, a BOOLEAN as an int) and writes the prompt before and after, as `json.dumps` prints them, to
Tests/LatentflowNodesTests/Fixtures/validated_prompt.json.
"""
import asyncio
import json
import os
import sys

comfyui, extra = sys.argv[1], sys.argv[2]
sys.path.append(extra)  # after ComfyUI's own folders: it has a `utils` package of its own
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from comfyui_boot import boot  # noqa: E402

boot(comfyui)
import utils.install_util  # noqa: E402,F401  ComfyUI's `utils` package, before nodes.py puts comfy/ first
import nodes  # noqa: E402
import comfyui_version  # noqa: E402
import execution  # noqa: E402

asyncio.run(nodes.init_builtin_extra_nodes())

# Keys in the order Latentflow writes an API node ("inputs", then "class_type"), so the texts compare whole.
prompt = {
    "1": {"inputs": {"width": 64.0, "height": "64", "batch_size": 1}, "class_type": "EmptyLatentImage"},
    "2": {"inputs": {"samples": ["1", 0], "upscale_method": "nearest-exact", "scale_by": 2},
          "class_type": "LatentUpscaleBy"},
    "3": {"inputs": {"samples": ["2", 0], "filename_prefix": "latents/validated"}, "class_type": "SaveLatent"},
    "4": {"inputs": {"string_a": 5, "string_b": "5x", "mode": "Starts With", "case_sensitive": 0},
          "class_type": "StringCompare"},
    "5": {"inputs": {"source": ["4", 0]}, "class_type": "PreviewAny"},
}
before = json.dumps(prompt)
valid = asyncio.run(execution.validate_prompt("fixture", prompt, None))
assert valid[0], valid
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "LatentflowNodesTests", "Fixtures",
                   "validated_prompt.json")
with open(out, "w") as f:
    json.dump({"comfyui_version": comfyui_version.__version__, "prompt": before, "validated": json.dumps(prompt)},
              f, indent=1)
    f.write("\n")
print(json.dumps(prompt))
