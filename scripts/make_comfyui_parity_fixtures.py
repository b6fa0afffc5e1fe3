"""Whole workflows run by ComfyUI itself on full-size SD1.5 and SD2.1 checkpoints with random weights.

Run by hand (never by CI):
    swift run -c release latentflow-tools make-tiny-model --full-size --output /tmp/parity/models/checkpoints/latentflow-random-sd15.safetensors
    (this also writes /tmp/parity/models/loras/latentflow-random-sd15-lora.safetensors)
    python3 scripts/make_random_sd21_checkpoint.py --models /tmp/parity/models   (for --family sd21)
    pip install torch torchsde einops scipy tqdm psutil av aiohttp safetensors transformers
    python3 scripts/make_comfyui_parity_fixtures.py --comfyui /path/to/ComfyUI --models /tmp/parity/models [--family sd21]
Writes Tests/LatentflowEndToEndTests/Fixtures/comfyui_parity.safetensors (comfyui_parity_sd21 for
the SD2.1 family: an OpenCLIP ViT-H text tower, v-prediction guessed from the weights): for each workflow its
final latent (KSampler output), ComfyUI's float image and its 8-bit image, and in the metadata the
API-format workflow that produced them and the checkpoint's and LoRA's sha256. ComfyUI's own node
classes run (CheckpointLoaderSimple, LoraLoader, LoraLoaderModelOnly, CLIPSetLastLayer,
CLIPTextEncode, ModelSamplingDiscrete, LoadImage, VAEEncode, KSampler, VAEDecode), on CPU. The
img2img case reads input/example-gradient.png from this repository.
"""
import argparse
import hashlib
import json
import os
import sys

parser = argparse.ArgumentParser()
parser.add_argument("--comfyui", default=os.environ.get("COMFYUI_PATH"))
parser.add_argument("--models", required=True)
parser.add_argument("--family", choices=["sd15", "sd21"], default="sd15")
args = parser.parse_args()
if not args.comfyui:
    sys.exit("pass --comfyui /path/to/ComfyUI")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from comfyui_boot import boot  # noqa: E402
boot(args.comfyui)
import folder_paths  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

folder_paths.add_model_folder_path("checkpoints", os.path.join(args.models, "checkpoints"), is_default=True)
folder_paths.add_model_folder_path("loras", os.path.join(args.models, "loras"), is_default=True)
repository = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
folder_paths.set_input_directory(os.path.join(repository, "input"))
import comfyui_version  # noqa: E402
import nodes  # noqa: E402
from comfy_extras import nodes_model_advanced  # noqa: E402

CKPT = f"latentflow-random-{args.family}.safetensors"
ckpt_path = os.path.join(args.models, "checkpoints", CKPT)
LORA = "latentflow-random-sd15-lora.safetensors"
digest = hashlib.sha256(open(ckpt_path, "rb").read()).hexdigest()
lora_digest = hashlib.sha256(open(os.path.join(args.models, "loras", LORA), "rb").read()).hexdigest() if args.family == "sd15" else None
model0, clip0, vae0 = nodes.CheckpointLoaderSimple().load_checkpoint(CKPT)[:3]
print("ComfyUI reads", CKPT, "as", type(model0.model.model_config).__name__, model0.model.model_type)


def api(case):
    """The same workflow in ComfyUI's API format, for Latentflow to run."""
    w = {"1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": CKPT}}}
    model, clip = ["1", 0], ["1", 1]
    if case.get("lora"):
        w["11"] = {"class_type": "LoraLoader", "inputs": {"model": model, "clip": clip, "lora_name": LORA,
                                                          "strength_model": case["lora"][0], "strength_clip": case["lora"][1]}}
        model, clip = ["11", 0], ["11", 1]
    if case.get("lora_model_only"):
        w["12"] = {"class_type": "LoraLoaderModelOnly", "inputs": {"model": model, "lora_name": LORA,
                                                                   "strength_model": case["lora_model_only"]}}
        model = ["12", 0]
    if case.get("sampling"):
        w["2"] = {"class_type": "ModelSamplingDiscrete", "inputs": {"model": model, "sampling": case["sampling"], "zsnr": False}}
        model = ["2", 0]
    if case.get("clip_skip"):
        w["9"] = {"class_type": "CLIPSetLastLayer", "inputs": {"clip": clip, "stop_at_clip_layer": case["clip_skip"]}}
        clip = ["9", 0]
    w["3"] = {"class_type": "CLIPTextEncode", "inputs": {"clip": clip, "text": case["positive"]}}
    w["4"] = {"class_type": "CLIPTextEncode", "inputs": {"clip": clip, "text": case["negative"]}}
    if case.get("image"):
        w["13"] = {"class_type": "LoadImage", "inputs": {"image": case["image"]}}
        w["5"] = {"class_type": "VAEEncode", "inputs": {"pixels": ["13", 0], "vae": ["1", 2]}}
    else:
        w["5"] = {"class_type": "EmptyLatentImage", "inputs": {"width": case["width"], "height": case["height"], "batch_size": case["batch"]}}
    w["6"] = {"class_type": "KSampler", "inputs": {"model": model, "seed": case["seed"], "steps": case["steps"], "cfg": case["cfg"],
                                                   "sampler_name": case["sampler"], "scheduler": case["scheduler"], "positive": ["3", 0],
                                                   "negative": ["4", 0], "latent_image": ["5", 0], "denoise": case.get("denoise", 1.0)}}
    w["7"] = {"class_type": "VAEDecode", "inputs": {"samples": ["6", 0], "vae": ["1", 2]}}
    w["8"] = {"class_type": "SaveImage", "inputs": {"images": ["7", 0], "filename_prefix": "parity"}}
    w["10"] = {"class_type": "SaveLatent", "inputs": {"samples": ["6", 0], "filename_prefix": "parity"}}
    return w


euler = dict(sampler="euler", scheduler="normal", steps=5, cfg=5.0, seed=31, width=64, height=64, batch=1,
             positive="a portrait of an old sailor", negative="cartoon")
cases = {
    "lcm_cfg1": dict(sampling="lcm", sampler="lcm", scheduler="sgm_uniform", steps=4, cfg=1.0, seed=42, width=64, height=64, batch=1,
                     positive="a photo of a cat", negative=""),
    "lcm_cfg1.8_batch2_bigseed": dict(sampling="lcm", sampler="lcm", scheduler="sgm_uniform", steps=4, cfg=1.8, seed=2**32 + 5,
                                      width=64, height=64, batch=2, positive="a watercolor fox", negative="blurry"),
    "euler_normal_clipskip_weights": dict(sampler="euler", scheduler="normal", steps=6, cfg=7.0, seed=7, width=64, height=64, batch=1,
                                          clip_skip=-2, positive="a (red:1.3) car, ((sunset)), " * 8 + "long prompt", negative="low quality"),
    "dpmpp_2m_karras_nonsquare": dict(sampler="dpmpp_2m", scheduler="karras", steps=6, cfg=5.0, seed=123, width=96, height=64, batch=1,
                                      positive="mountains at dawn", negative=""),
    "euler_ancestral_normal": dict(sampler="euler_ancestral", scheduler="normal", steps=5, cfg=4.0, seed=99, width=64, height=64, batch=1,
                                   positive="a city street at night", negative="text"),
    # 256 px: a 32x32 latent and 64-256 px VAE maps, wide enough for the Winograd convolutions.
    "lcm_cfg1_256px": dict(sampling="lcm", sampler="lcm", scheduler="sgm_uniform", steps=4, cfg=1.0, seed=1234, width=256, height=256,
                           batch=1, positive="a stone bridge over a river", negative=""),
    # LoRA cases, and the same workflow without it, so the note can say how far the LoRA moves the result.
    "euler_no_lora": dict(euler),
    "lora_model0.9_clip-0.7": dict(euler, lora=(0.9, -0.7)),
    "lora_model_only1.3": dict(euler, lora_model_only=1.3),
    "lcm_lora_cfg1": dict(sampling="lcm", sampler="lcm", scheduler="sgm_uniform", steps=4, cfg=1.0, seed=5, width=64, height=64, batch=1,
                          lora=(1.0, 1.0), positive="a bowl of fruit", negative=""),
    "img2img_dpmpp_2m_denoise0.6": dict(sampler="dpmpp_2m", scheduler="normal", steps=6, cfg=6.0, seed=17, image="example-gradient.png",
                                        denoise=0.6, positive="a sunset over the sea", negative=""),
    "dpmpp_sde_normal_bigseed": dict(sampler="dpmpp_sde", scheduler="normal", steps=5, cfg=6.0, seed=873141143997374, width=64, height=64,
                                     batch=1, positive="a forest clearing", negative="people"),
    "uni_pc_bh2_karras": dict(sampler="uni_pc_bh2", scheduler="karras", steps=6, cfg=5.0, seed=77, width=64, height=64, batch=1,
                              positive="a castle on a hill", negative="fog"),
    "dpm_2_ancestral_normal": dict(sampler="dpm_2_ancestral", scheduler="normal", steps=4, cfg=4.0, seed=8, width=64, height=64, batch=1,
                                   positive="a red bicycle", negative=""),
    "dpmpp_2m_sde_karras_batch2": dict(sampler="dpmpp_2m_sde", scheduler="karras", steps=6, cfg=5.0, seed=3, width=64, height=64,
                                       batch=2, positive="a lighthouse", negative=""),
}
sd21_cases = {
    # v-prediction (guessed from the weights), weights against the 0-padded empty prompt.
    "sd21_vpred_euler_weights": dict(sampler="euler", scheduler="normal", steps=5, cfg=5.0, seed=11, width=64, height=64, batch=1,
                                     positive="a (snowy:1.2) mountain village, ((dusk))", negative=""),
    # CLIPSetLastLayer(-1): the tower's real last layer instead of SD2's default penultimate one.
    "sd21_last_clip_layer_dpmpp_2m_karras": dict(sampler="dpmpp_2m", scheduler="karras", steps=6, cfg=4.0, seed=5, width=96, height=64,
                                                 batch=1, clip_skip=-1, positive="a harbour at noon", negative="rain"),
    # ModelSamplingDiscrete overriding the guess, a long prompt split into two 0-padded chunks, batch 2.
    "sd21_eps_override_long_prompt_batch2": dict(sampling="eps", sampler="euler_ancestral", scheduler="normal", steps=4, cfg=6.0,
                                                 seed=2**33 + 1, width=64, height=64, batch=2,
                                                 positive="a detailed oil painting, " * 20 + "of a quiet library", negative="blurry"),
}
if args.family == "sd21":
    cases = sd21_cases
tensors, workflows = {}, {}
torch.set_grad_enabled(False)  # the ComfyUI executor runs nodes under inference mode
for name, case in cases.items():
    model, clip = model0, clip0
    if case.get("lora"):
        model, clip = nodes.LoraLoader().load_lora(model, clip, LORA, *case["lora"])
    if case.get("lora_model_only"):
        (model,) = nodes.LoraLoaderModelOnly().load_lora_model_only(model, LORA, case["lora_model_only"])
    if case.get("sampling"):
        (model,) = nodes_model_advanced.ModelSamplingDiscrete().patch(model, case["sampling"], False)
    if case.get("clip_skip"):
        (clip,) = nodes.CLIPSetLastLayer().set_last_layer(clip, case["clip_skip"])
    (positive,) = nodes.CLIPTextEncode().encode(clip, case["positive"])
    (negative,) = nodes.CLIPTextEncode().encode(clip, case["negative"])
    if case.get("image"):
        pixels = nodes.LoadImage().load_image(case["image"])[0]
        (latent,) = nodes.VAEEncode().encode(vae0, pixels)
    else:
        (latent,) = nodes.EmptyLatentImage().generate(case["width"], case["height"], case["batch"])
    (out,) = nodes.KSampler().sample(model, case["seed"], case["steps"], case["cfg"], case["sampler"], case["scheduler"],
                                     positive, negative, latent, denoise=case.get("denoise", 1.0))
    (image,) = nodes.VAEDecode().decode(vae0, out)
    tensors[name + ".latent"] = out["samples"].contiguous()
    tensors[name + ".image"] = image.contiguous()
    tensors[name + ".png"] = torch.from_numpy(np.clip(255.0 * image.cpu().numpy(), 0, 255).astype(np.uint8)).contiguous()
    workflows[name] = api(case)
    print(name, "done")


def psnr(a, b):
    peak = float(b.max() - b.min())
    return 10 * np.log10(peak * peak / float(((a - b) ** 2).mean()))


for name in ["lora_model0.9_clip-0.7", "lora_model_only1.3"] if args.family == "sd15" else []:
    print(f"{name} against the same workflow without the LoRA: latent PSNR "
          f"{psnr(tensors[name + '.latent'], tensors['euler_no_lora.latent']):.1f} dB")

fixture = "comfyui_parity.safetensors" if args.family == "sd15" else f"comfyui_parity_{args.family}.safetensors"
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "LatentflowEndToEndTests", "Fixtures", fixture)
metadata = {"workflows": json.dumps(workflows), "checkpoint": CKPT, "checkpoint_sha256": digest,
            "comfyui_version": comfyui_version.__version__, "torch": torch.__version__}
if lora_digest:
    metadata.update({"lora": LORA, "lora_sha256": lora_digest})
save_file(tensors, out, metadata=metadata)
print("wrote", out, "checkpoint sha256", digest)
