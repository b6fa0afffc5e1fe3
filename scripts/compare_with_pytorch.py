"""Latentflow's time over PyTorch's, component by component, in one run on this machine.

Run by hand (never by CI), after `swift build -c release --product latentflow`:
    pip install torch diffusers transformers
    python3 scripts/compare_with_pytorch.py [--threads 2] [--repeats 3] [--only unet]
        [--workflow-checkpoint FILE.safetensors [--sizes 256 --sizes 512]] [--rounds 3]
        [--winograd-cache-mb 1024] [--pytorch-dtype bfloat16] [--latentflow-bf16-unet]
PyTorch runs diffusers' UNet2DConditionModel / AutoencoderKL and transformers' CLIPTextModel in
SD1.5's configuration with random weights, float32 on the CPU (--pytorch-dtype bfloat16: PyTorch's
side in bfloat16, which its CPU kernels run on AVX512-BF16 or AMX hosts; Latentflow's stays float32,
so the ratio shows what reduced precision gives a peer, not a like-for-like comparison, unless
--latentflow-bf16-unet puts Latentflow's UNet in bfloat16 too: `bench --bf16-unet`); Latentflow runs
`latentflow bench --models --json` on the same machine right after. Ratios below 1 mean
Latentflow is faster.

With --workflow-checkpoint (an SD1.5 checkpoint for Latentflow's side, e.g. one written by
`make-tiny-model --full-size`), the whole 4-step LCM txt2img at cfg 1 is compared too:
diffusers' StableDiffusionPipeline with LCMScheduler on the models above, the prompt encoded
once (as Latentflow's second seed in one process, which finds the prompt cached), the image
saved as PNG; against `latentflow bench --workflow-checkpoint`'s "seed 2, same process" run.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import time

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel

parser = argparse.ArgumentParser()
parser.add_argument("--threads", type=int, default=os.cpu_count())
parser.add_argument("--repeats", type=int, default=3)
parser.add_argument("--only", action="append", default=[])
parser.add_argument("--workflow-checkpoint")
parser.add_argument("--sizes", type=int, action="append")
parser.add_argument("--winograd-cache-mb", type=int,
                    help="Latentflow's side keeps this much of its Winograd-transformed weights (bench --winograd-cache-mb)")
# This VM's speed drifts (PyTorch's 512 px image took 46.5 s and 32.2 s in two runs 35 minutes apart):
# rounds alternate the two sides, so that a drift shows as rounds that disagree instead of biasing one ratio.
parser.add_argument("--rounds", type=int, default=1,
                    help="alternate PyTorch's pass and Latentflow's this many times; report each round's ratio")
parser.add_argument("--pytorch-dtype", choices=["float32", "bfloat16"], default="float32")
parser.add_argument("--latentflow-bf16-unet", action="store_true",
                    help="Latentflow's side runs its UNet with bfloat16 products (bench --bf16-unet)")
args = parser.parse_args()
dtype = getattr(torch, args.pytorch_dtype)
torch.set_num_threads(args.threads)
torch.manual_seed(0)

unet = UNet2DConditionModel(cross_attention_dim=768, attention_head_dim=8).eval()          # SD1.5 defaults
vae = AutoencoderKL(block_out_channels=(128, 256, 512, 512), down_block_types=("DownEncoderBlock2D",) * 4,
                    up_block_types=("UpDecoderBlock2D",) * 4, layers_per_block=2, latent_channels=4).eval()
# ViT-L/14's text tower (CLIPTextConfig's defaults are the smaller ViT-B's: width 512, 8 heads).
clip = CLIPTextModel(CLIPTextConfig(hidden_size=768, intermediate_size=3072, num_attention_heads=12,
                                    num_hidden_layers=12, projection_dim=768, hidden_act="quick_gelu")).eval()
if dtype != torch.float32:  # (diffusers warns about any .to() cast, even to the dtype a model has)
    unet.to(dtype)
    vae.to(dtype)
    clip.to(dtype)
context = torch.randn(1, 77, 768, dtype=dtype)


def noise(*shape):
    return torch.randn(*shape, dtype=dtype)


def median_time(fn):
    with torch.inference_mode():
        fn()
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return statistics.median(times)


cases = {
    "CLIP text encoder (77 tokens)": lambda: clip(torch.full((1, 77), 320)),
    "UNet forward 32x32 latent": lambda: unet(noise(1, 4, 32, 32), 999, encoder_hidden_states=context),
    "UNet forward 64x64 latent": lambda: unet(noise(1, 4, 64, 64), 999, encoder_hidden_states=context),
    "VAE decode 256x256": lambda: vae.decode(noise(1, 4, 32, 32)),
    "VAE decode 512x512": lambda: vae.decode(noise(1, 4, 64, 64)),
    "VAE encode 512x512": lambda: vae.encode(noise(1, 3, 512, 512)),
}
if args.workflow_checkpoint:
    import tempfile

    from diffusers import LCMScheduler, StableDiffusionPipeline

    pipeline = StableDiffusionPipeline(vae=vae, text_encoder=clip, tokenizer=None, unet=unet, scheduler=LCMScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1, set_alpha_to_one=False),
                                       safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipeline.set_progress_bar_config(disable=True)
    prompt = clip(torch.full((1, 77), 320))[0].detach()
    output_folder = tempfile.mkdtemp()

    def lcm_image(size):
        image = pipeline(prompt_embeds=prompt, num_inference_steps=4, guidance_scale=1.0, height=size, width=size,
                         generator=torch.Generator().manual_seed(2)).images[0]
        image.save(os.path.join(output_folder, f"{size}.png"))

    for size in args.sizes or [256, 512]:
        cases[f"LCM 4 steps {size}px, seed 2, same process"] = lambda size=size: lcm_image(size)
# After the workflow cases: the benchmark's --only picks among its model and workflow cases alike.
if args.only:
    cases = {k: v for k, v in cases.items() if any(o.lower() in k.lower() for o in args.only)}
binary = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".build", "release", "latentflow")
command = [binary, "bench", "--models", "--json", "--repeats", str(args.repeats * 3), "--threads", str(args.threads)]
for o in args.only:
    command += ["--only", o]
if args.winograd_cache_mb is not None:
    command += ["--winograd-cache-mb", str(args.winograd_cache_mb)]
if args.latentflow_bf16_unet:
    command.append("--bf16-unet")
if args.workflow_checkpoint:
    command += ["--workflow-checkpoint", args.workflow_checkpoint]
    for size in args.sizes or [256, 512]:
        command += ["--sizes", str(size)]

rounds = []
for _ in range(max(1, args.rounds)):
    pytorch = {name: median_time(fn) for name, fn in cases.items()}
    # (bench names its bfloat16 cases so; the cases are the same)
    ours = {r["name"].replace(", bf16 UNet", "").replace(", bf16", ""): r["seconds"]
            for r in json.loads(subprocess.check_output(command))["results"]}
    rounds.append((pytorch, ours))

print(f"{'component':44} {'PyTorch':>10} {'Latentflow':>11} {'ratio':>7}")
for name in cases:
    for pytorch, ours in rounds:
        print(f"{name:44} {pytorch[name]:9.2f}s {ours[name]:10.2f}s {ours[name] / pytorch[name]:7.2f}")
    if len(rounds) > 1:
        ratio = statistics.median(ours[name] / pytorch[name] for pytorch, ours in rounds)
        print(f"{name + ', median of ' + str(len(rounds)) + ' rounds':44} {'':10} {'':11} {ratio:7.2f}")
# Linux reports ru_maxrss in KiB: the PyTorch process's peak over its models and every case above.
# (Latentflow's peak is bench's own column when run alone: a child forked from this process starts
# its ru_maxrss at this process's size.)
pytorch_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(f"peak RSS of the PyTorch process: {pytorch_peak / 2**30:.2f} GiB")
