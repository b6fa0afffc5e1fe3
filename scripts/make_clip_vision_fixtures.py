#!/usr/bin/env python3
"""Writes Tests/LatentflowModelsTests/Fixtures/clip_vision_tiny.safetensors: a tiny random CLIP
vision tower in transformers' layout (what models/clip_vision files hold), images, ComfyUI's
preprocessing of them (`comfy.clip_vision.clip_preprocess`, crop and no crop), and the outputs
ComfyUI's CLIPVisionEncode hands on (last_hidden_state, penultimate_hidden_states, image_embeds),
cross-checked against transformers' CLIPVisionModelWithProjection.

Run by hand, never by CI, with a ComfyUI v0.3.64 checkout:
  /work/venv-torch/bin/python scripts/make_clip_vision_fixtures.py /path/to/ComfyUI [extra sys.path ...]
"""

import os
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from comfyui_boot import boot  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "LatentflowModelsTests", "Fixtures",
                   "clip_vision_tiny.safetensors")


def main():
    comfy_path = sys.argv[1]
    sys.path += sys.argv[2:]
    boot(comfy_path)
    import comfy.clip_model
    import comfy.clip_vision
    import comfy.ops
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    torch.set_num_threads(1)
    size = 16
    hf_config = CLIPVisionConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=1,
                                 image_size=size, patch_size=4, projection_dim=32, hidden_act="quick_gelu")
    hf = CLIPVisionModelWithProjection(hf_config).eval()
    with torch.no_grad():
        for p in hf.parameters():  # random LayerNorms and biases too, so that every term is checked
            p.add_(torch.randn_like(p) * 0.05)
    weights = {k: v.detach().clone() for k, v in hf.state_dict().items() if not k.endswith("position_ids")}

    comfy_config = {"hidden_size": 64, "image_size": size, "intermediate_size": 128, "num_attention_heads": 1,
                    "num_channels": 3, "num_hidden_layers": 2, "model_type": "clip_vision_model", "patch_size": 4, "projection_dim": 32,
                    "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5}
    model = comfy.clip_model.CLIPVisionModelProjection(comfy_config, torch.float32, "cpu", comfy.ops.manual_cast)
    missing, unexpected = model.load_state_dict(weights, strict=False)
    assert not missing, missing

    images = {"wide": torch.rand(2, 23, 37, 3), "tall_rgba": torch.rand(1, 41, 19, 4), "exact": torch.rand(1, 16, 16, 3)}
    tensors = {f"weights.{k}": v for k, v in weights.items()}
    for name, image in images.items():
        tensors[f"{name}.image"] = image
        for crop in [True, False]:
            tag = f"{name}.{'center' if crop else 'none'}"
            pixels = comfy.clip_vision.clip_preprocess(image, size=size, crop=crop).float()
            with torch.no_grad():
                last, penultimate, embeds = model(pixel_values=pixels, intermediate_output=-2)[:3]
                reference = hf(pixel_values=pixels, output_hidden_states=True)
            assert torch.allclose(embeds, reference.image_embeds, atol=1e-5)
            assert torch.allclose(last, reference.last_hidden_state, atol=1e-5)
            assert torch.allclose(penultimate, reference.hidden_states[-2], atol=1e-5)
            tensors[f"{tag}.pixels"] = pixels
            tensors[f"{tag}.last_hidden_state"] = last
            tensors[f"{tag}.penultimate_hidden_states"] = penultimate
            tensors[f"{tag}.image_embeds"] = embeds
    save_file({k: v.contiguous() for k, v in tensors.items()}, OUT)
    print("wrote", OUT, len(tensors), "tensors")


if __name__ == "__main__":
    main()
