#!/usr/bin/env python3
"""Self-Attention Guidance references from ComfyUI v0.3.64's own code (run by hand, never by CI).

    /work/venv-torch/bin/python scripts/make_sag_fixtures.py /tmp/comfy0364 /tmp/cextra

Writes Tests/LatentflowNodesTests/Fixtures/sag_reference.safetensors, all computed by ComfyUI's
`comfy_extras/nodes_sag.py`:
  * `blur.*`: `attention_basic_with_sim` on seeded q, k, v (3 heads, 12 tokens, batch 2) and
    `create_blur_map` of a seeded 8x6 x0 with its probabilities (sigma 1.7, threshold 1);
  * `gauss.*`: `gaussian_blur_2d` (kernel 9, reflect padding) of a seeded 7x9 image at sigma 0.8 and 3;
  * `sag.i` / `cfg.i`: the denoised prediction (cfg 3) at three sigmas with and without the
    SelfAttentionGuidance node (scale 1.5, blur_sigma 1.0) on the tiny checkpoint (loaded by
    comfy.sd.load_checkpoint_guess_config through scripts/comfyui_tiny.py), taken by a probing
    sampler function through comfy.sample.sample_custom, so ComfyUI's CFGGuider, the attn1
    replace patch and the post-CFG function make the calls;
  * `ksampler.sag`: nodes.KSampler (seed 7, 4 steps, cfg 3, euler, normal) with the node, from a
    64x64 EmptyLatentImage.
"""
import os
import sys

import torch
from safetensors.torch import save_file

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(SCRIPTS, "..")
OUT = os.path.join(ROOT, "Tests", "LatentflowNodesTests", "Fixtures", "sag_reference.safetensors")


def main():
    comfyui, extras = sys.argv[1], sys.argv[2:]
    sys.path.insert(0, SCRIPTS)
    from comfyui_boot import boot
    boot(comfyui)
    import utils.install_util  # noqa: F401  (ComfyUI's own `utils` before the extras can shadow it)
    sys.path += extras
    torch.set_num_threads(1)
    torch.set_grad_enabled(False)
    import comfy.sample
    import comfy.samplers
    import comfy_extras.nodes_sag as sag
    import comfyui_tiny
    import comfyui_version
    import nodes

    out = {}
    torch.manual_seed(2031)
    heads, tokens, width = 3, 12, 4
    q, k, v = (torch.randn(2, tokens, heads * width) for _ in range(3))
    attended, sim = sag.attention_basic_with_sim(q, k, v, heads=heads, attn_precision=torch.float32)
    x0 = torch.randn(2, 4, 8, 6)
    out.update({"blur.q": q, "blur.k": k, "blur.v": v, "blur.attended": attended, "blur.x0": x0,
                "blur.out": sag.create_blur_map(x0, sim, 1.7, 1.0)})
    image = torch.randn(1, 3, 7, 9)
    out["gauss.image"] = image
    for name, sigma in [("0.8", 0.8), ("3", 3.0)]:
        out["gauss." + name] = sag.gaussian_blur_2d(image, kernel_size=9, sigma=sigma)

    model = comfyui_tiny.load_checkpoint(os.path.join(ROOT, "models", "checkpoints", "latentflow-tiny-sd15.safetensors"))
    patched = sag.SelfAttentionGuidance.execute(model, 1.5, 1.0).args[0]
    torch.manual_seed(2032)
    positive_t, negative_t = torch.randn(1, 5, 32), torch.randn(1, 5, 32)
    latent = torch.randn(1, 4, 8, 8)
    positive, negative = [[positive_t, {}]], [[negative_t, {}]]
    table = model.get_model_object("model_sampling").sigmas
    test_sigmas = [float(table[900]), float(table[500]), float(table[150])]
    xs = [latent * (s ** 2 + 1) ** 0.5 for s in test_sigmas]
    out.update({"positive": positive_t, "negative": negative_t, "sigmas": torch.tensor(test_sigmas)})
    for i, x in enumerate(xs):
        out["x.%d" % i] = x
    for name, m in [("sag", patched), ("cfg", model)]:
        probed = []

        def probe(model_k, noise, sigmas, extra_args=None, callback=None, disable=None):
            for x, sigma in zip(xs, test_sigmas):
                probed.append(model_k(x.clone(), torch.tensor([sigma]), **extra_args))
            return noise

        comfy.sample.sample_custom(m, torch.zeros(1, 4, 8, 8), 3.0, comfy.samplers.KSAMPLER(probe),
                                   torch.tensor(test_sigmas + [0.0]), positive, negative, torch.zeros(1, 4, 8, 8), seed=0)
        for i, d in enumerate(probed):
            out["%s.%d" % (name, i)] = d
    for i in range(3):
        print("sigma %.3f: SAG changes the prediction by %.4f (max abs)" % (test_sigmas[i], float((out["sag.%d" % i] - out["cfg.%d" % i]).abs().max())))
    (empty,) = nodes.EmptyLatentImage().generate(64, 64, 1)
    out["ksampler.sag"] = nodes.KSampler().sample(patched, 7, 4, 3.0, "euler", "normal", positive, negative, empty)[0]["samples"]
    save_file({k: t.contiguous() for k, t in out.items()}, OUT,
              metadata={"comfyui_version": comfyui_version.__version__, "torch": torch.__version__,
                        "sag": "scale 1.5, blur_sigma 1.0, cfg 3",
                        "ksampler": "seed 7, 4 steps, cfg 3, euler, normal, EmptyLatentImage 64x64"})
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
