"""Checks that Latentflow's save nodes write what ComfyUI v0.3.64 writes and reads.

Runs a workflow through the built `latentflow` binary (default .build/debug/latentflow): the tiny
checkpoint merged with itself under its LoRA, then CheckpointSave, ModelSave, CLIPSave and
VAESave. Then reads each file with the `safetensors` package and checks the layout of ComfyUI's
`comfy.sd.save_checkpoint` / `model_base.state_dict_for_saving` (SD1.x:
`model.diffusion_model.*` float32, `cond_stage_model.transformer.text_model.*` float16 without
text_projection/logit_scale, `first_stage_model.*`), CLIPSave's `text_model.*` with
metadata `format: pt`, VAESave's bare VAE keys, the `prompt`/`workflow` metadata, and that every
key the tiny checkpoint has for each model is there with its shape.
Run: /work/venv-torch/bin/python scripts/check_saved_models.py [--latentflow PATH]
"""

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

from safetensors import safe_open

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "models/checkpoints/latentflow-tiny-sd15.safetensors"

WORKFLOW = {
    "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "latentflow-tiny-sd15.safetensors"}},
    "2": {"class_type": "LoraLoader", "inputs": {"model": ["1", 0], "clip": ["1", 1],
          "lora_name": "latentflow-tiny-lora.safetensors", "strength_model": 0.8, "strength_clip": 0.8}},
    "3": {"class_type": "ModelMergeSimple", "inputs": {"model1": ["1", 0], "model2": ["2", 0], "ratio": 0.4}},
    "4": {"class_type": "CLIPMergeSimple", "inputs": {"clip1": ["1", 1], "clip2": ["2", 1], "ratio": 0.4}},
    "5": {"class_type": "CheckpointSave", "inputs": {"model": ["3", 0], "clip": ["4", 0], "vae": ["1", 2],
          "filename_prefix": "checkpoints/ComfyUI"}},
    "6": {"class_type": "ModelSave", "inputs": {"model": ["3", 0], "filename_prefix": "diffusion_models/ComfyUI"}},
    "7": {"class_type": "CLIPSave", "inputs": {"clip": ["4", 0], "filename_prefix": "clip/ComfyUI"}},
    "8": {"class_type": "VAESave", "inputs": {"vae": ["1", 2], "filename_prefix": "vae/ComfyUI_vae"}},
}


def shapes(path, prefix="", strip=""):
    with safe_open(path, "pt") as f:
        return {k[len(strip):]: tuple(f.get_slice(k).get_shape()) for k in f.keys() if k.startswith(prefix)}


def check(path, expected, dtype_of, metadata_keys):
    with safe_open(path, "pt") as f:
        keys = set(f.keys())
        metadata = f.metadata() or {}
        for k in keys:
            want = dtype_of(k)
            got = str(f.get_slice(k).get_dtype())
            assert got == want, f"{path.name}: {k} is {got}, ComfyUI writes {want}"
        for k in metadata_keys:
            assert k in metadata, f"{path.name}: metadata lacks {k}"
        json.loads(metadata["prompt"])
    saved = shapes(path)
    for k, shape in expected.items():
        assert k in saved, f"{path.name}: missing {k}"
        assert saved[k] == shape, f"{path.name}: {k} {saved[k]} vs {shape}"
    extra = set(saved) - set(expected) - {"v_pred"}
    assert not extra, f"{path.name}: keys ComfyUI does not write: {sorted(extra)[:5]}"
    print(f"ok {path.relative_to(path.parents[2])}: {len(saved)} tensors, metadata {sorted(metadata)}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--latentflow", default=str(ROOT / ".build/debug/latentflow"))
    args = parser.parse_args()
    unet = "model.diffusion_model."
    text = "cond_stage_model.transformer.text_model."
    vae = "first_stage_model."
    tiny_unet = shapes(TINY, unet)
    tiny_text = {k: s for k, s in shapes(TINY, text).items() if not k.endswith("position_ids")}
    tiny_vae = shapes(TINY, vae)
    with tempfile.TemporaryDirectory() as out:
        workflow = Path(out) / "save.json"
        workflow.write_text(json.dumps(WORKFLOW))
        subprocess.run([args.latentflow, "run", str(workflow), "--base-dir", str(ROOT), "--output-dir", out], check=True)
        o = Path(out)
        fp = lambda k: "F16" if k.startswith(text) or k.startswith("text_model.") else "F32"
        check(o / "checkpoints/ComfyUI_00001_.safetensors", {**tiny_unet, **tiny_text, **tiny_vae}, fp,
              ["prompt", "modelspec.predict_key"])
        check(o / "diffusion_models/ComfyUI_00001_.safetensors", tiny_unet, fp, ["prompt"])
        check(o / "clip/ComfyUI_clip_l_00001_.safetensors",
              {"text_model." + k[len(text):]: s for k, s in tiny_text.items()}, fp, ["prompt", "format"])
        check(o / "vae/ComfyUI_vae_00001_.safetensors", {k[len(vae):]: s for k, s in tiny_vae.items()}, fp, ["prompt"])


if __name__ == "__main__":
    main()
