"""The steps-vs-accuracy table of the embedded shapes model (the small-scale version of the LCM paper's
table), rendered by Latentflow and scored by shapes_dataset.py's checker (run by hand, never by CI).

    swift build -c release && /work/venv-torch/bin/python scripts/evaluate_shapes_model.py

Every configuration renders the same held-out captions (combinations of shape, colour and background
the model never saw) with the same seeds through `latentflow batch`, from the workflows in `workflows/`
with their sampler settings changed; the time per image is the batch's wall time over its image count
(one model load included, so it is an upper bound).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shapes_dataset as shapes  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
WORKFLOWS = os.path.join(ROOT, "workflows")

# name, workflow, KSampler overrides
CONFIGS = [
    ("teacher, euler, 25 steps, cfg 5", "shapes-teacher.json", dict(steps=25)),
    ("teacher, euler, 4 steps, cfg 5", "shapes-teacher.json", dict(steps=4)),
    ("LCM, 1 step", "shapes-lcm.json", dict(steps=1)),
    ("LCM, 2 steps", "shapes-lcm.json", dict(steps=2)),
    ("LCM, 4 steps", "shapes-lcm.json", dict(steps=4)),
    ("LCM, 8 steps", "shapes-lcm.json", dict(steps=8)),
    ("teacher + LCM-LoRA, 4 steps", "shapes-lcm-lora.json", dict(steps=4)),
]


def evaluation_set(count, seeds):
    held = shapes.held_out_combinations()
    stride = max(1, len(held) // count)
    return [(a, seed) for a in held[::stride][:count] for seed in seeds]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--latentflow", default=None, help="binary (default: .build/release, else .build/debug)")
    parser.add_argument("--captions", type=int, default=40)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--only", nargs="*", default=None, help="configuration names to run")
    parser.add_argument("--grid", default=os.path.join(ROOT, "docs", "shapes-model", "held-out-lcm-4-steps.png"),
                        help="where the first 8 LCM 4-step images go, side by side (3x, nearest)")
    parser.add_argument("--base-dir", default=ROOT, help="the folder whose models/ holds the shapes files")
    parser.add_argument("--lcm-guidance", type=float, default=None,
                        help="the LCM checkpoint's guidance embedding (LCMGuidanceScale; the workflow's: 5)")
    args = parser.parse_args()
    binary = args.latentflow or next(
        p for p in (os.path.join(ROOT, ".build", b, "latentflow") for b in ("release", "debug")) if os.path.exists(p))
    cases = evaluation_set(args.captions, args.seeds)
    rows = []
    for name, workflow, overrides in CONFIGS:
        if args.only and name not in args.only:
            continue
        base = json.load(open(os.path.join(WORKFLOWS, workflow)))
        work = tempfile.mkdtemp(prefix="shapes-eval-")
        folder, out = os.path.join(work, "workflows"), os.path.join(work, "output")
        os.makedirs(folder)
        for k, (a, seed) in enumerate(cases):
            wf = json.loads(json.dumps(base))
            wf["3"]["inputs"]["text"] = shapes.caption(a)
            wf["6"]["inputs"].update(overrides, seed=seed)
            wf["8"]["inputs"]["filename_prefix"] = "case%03d" % k
            if args.lcm_guidance is not None and wf.get("9", {}).get("class_type") == "LCMGuidanceScale":
                wf["9"]["inputs"]["guidance_scale"] = args.lcm_guidance
            json.dump(wf, open(os.path.join(folder, "case%03d.json" % k), "w"))
        start = time.time()
        subprocess.run([binary, "batch", folder, "--base-dir", args.base_dir, "--output-dir", out], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds = (time.time() - start) / len(cases)
        totals = {k: 0 for k in shapes.ATTRIBUTES + ["all"]}
        for k, (a, _) in enumerate(cases):
            image = np.asarray(Image.open(os.path.join(out, "case%03d_00001_.png" % k)).convert("RGB"))
            matches, _ = shapes.score(image, a)
            for key in totals:
                totals[key] += matches[key]
        if name == "LCM, 4 steps" and args.grid:
            tiles = [Image.open(os.path.join(out, "case%03d_00001_.png" % (k * len(args.seeds)))).convert("RGB") for k in range(8)]
            grid = Image.new("RGB", (64 * 8, 64))
            for k, tile in enumerate(tiles):
                grid.paste(tile, (64 * k, 0))
            grid.resize((64 * 8 * 3, 64 * 3), Image.NEAREST).save(args.grid)
            print("grid:", "; ".join(shapes.caption(cases[k * len(args.seeds)][0]) for k in range(8)))
        row = dict(name=name, seconds=seconds, **{k: v / len(cases) for k, v in totals.items()})
        rows.append(row)
        print(json.dumps(row), flush=True)
        shutil.rmtree(work)
    print("\n| configuration | all five | shape | colour | background | size | position | s/image |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %s | %.0f%% | %.0f%% | %.0f%% | %.0f%% | %.0f%% | %.0f%% | %.2f |" % (
            r["name"], 100 * r["all"], 100 * r["shape"], 100 * r["colour"], 100 * r["background"], 100 * r["size"],
            100 * r["position"], r["seconds"]))
    print("\n%d held-out captions x seeds %s = %d images per configuration" % (args.captions, args.seeds, len(cases)))


if __name__ == "__main__":
    main()
