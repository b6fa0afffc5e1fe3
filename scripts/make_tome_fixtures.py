#!/usr/bin/env python3
"""Token-merging (TomePatchModel) references from ComfyUI v0.3.64's own code (run by hand, never by CI).

    /work/venv-torch/bin/python scripts/make_tome_fixtures.py /tmp/comfy0364 /tmp/cextra

Writes Tests/LatentflowNodesTests/Fixtures/tome_reference.safetensors, computed by ComfyUI's
`comfy_extras/nodes_tomesd.py`:
  * `merge.<h>x<w>.*`: `bipartite_soft_matching_random2d` (strides 2, r tokens) on seeded tokens
    right after `torch.manual_seed(seed)`, and `unmerge(sin(merge(x)))`: the merged sequence's
    order is whatever torch's argsort leaves among equal keys, so only an order-independent
    function of it between merge and unmerge is compared (`sin`, elementwise, as the attention is
    per query). The draws `rand.*` of `torch.randint(4)` after the same seed are kept too.
  * `tome.i` / `plain.i`: the tiny checkpoint's (scripts/comfyui_tiny.py) denoised prediction at
    cfg 1 (one UNet call, the positive) at three sigmas, with and without the TomePatchModel node
    (ratio 0.5), taken through comfy.sample.sample_custom by a probing sampler function that calls
    `torch.manual_seed(100 + i)` before call i, so the node's `torch.randint` draws are known.
"""
import os
import sys

import torch
from safetensors.torch import save_file

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(SCRIPTS, "..")
OUT = os.path.join(ROOT, "Tests", "LatentflowNodesTests", "Fixtures", "tome_reference.safetensors")


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
    import comfy_extras.nodes_tomesd as tomesd
    import comfyui_tiny
    import comfyui_version

    out = {}
    for h, w, r, seed in [(6, 8, 14, 5), (7, 9, 40, 6)]:
        name = "merge.%dx%d" % (h, w)
        x = torch.randn(2, h * w, 8)
        torch.manual_seed(seed)
        out[name.replace("merge", "rand")] = torch.randint(4, size=((h // 2) * (w // 2),)).float()
        torch.manual_seed(seed)
        m, u = tomesd.bipartite_soft_matching_random2d(x, w, h, 2, 2, r)
        out[name + ".x"] = x
        out[name + ".out"] = u(torch.sin(m(x)))
        assert m(x).shape[1] == h * w - min(r, h * w - (h // 2) * (w // 2))

    model = comfyui_tiny.load_checkpoint(os.path.join(ROOT, "models", "checkpoints", "latentflow-tiny-sd15.safetensors"))
    patched = tomesd.TomePatchModel.execute(model, 0.5).args[0]
    torch.manual_seed(2041)
    positive_t = torch.randn(1, 5, 32)
    latent = torch.randn(1, 4, 8, 8)
    positive, negative = [[positive_t, {}]], [[torch.zeros(1, 5, 32), {}]]
    table = model.get_model_object("model_sampling").sigmas
    test_sigmas = [float(table[900]), float(table[500]), float(table[150])]
    xs = [latent * (s ** 2 + 1) ** 0.5 for s in test_sigmas]
    out.update({"positive": positive_t, "sigmas": torch.tensor(test_sigmas)})
    for i, x in enumerate(xs):
        out["x.%d" % i] = x
    for name, m in [("tome", patched), ("plain", model)]:
        probed = []

        def probe(model_k, noise, sigmas, extra_args=None, callback=None, disable=None):
            for i, (x, sigma) in enumerate(zip(xs, test_sigmas)):
                torch.manual_seed(100 + i)
                probed.append(model_k(x.clone(), torch.tensor([sigma]), **extra_args))
            return noise

        comfy.sample.sample_custom(m, torch.zeros(1, 4, 8, 8), 1.0, comfy.samplers.KSAMPLER(probe),
                                   torch.tensor(test_sigmas + [0.0]), positive, negative, torch.zeros(1, 4, 8, 8), seed=0)
        for i, d in enumerate(probed):
            out["%s.%d" % (name, i)] = d
    for i in range(3):
        print("sigma %.3f: ToMe changes the prediction by %.4f (max abs)" % (test_sigmas[i], float((out["tome.%d" % i] - out["plain.%d" % i]).abs().max())))
    save_file({k: t.contiguous() for k, t in out.items()}, OUT,
              metadata={"comfyui_version": comfyui_version.__version__, "torch": torch.__version__,
                        "tome": "ratio 0.5, cfg 1, torch.manual_seed(100 + i) before call i"})
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
