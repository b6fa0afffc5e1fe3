#!/usr/bin/env bash
# Renders the ComfyUI parity workflows (from the parity fixture's metadata, pointed at the embedded
# tiny checkpoint and LoRA, latents capped at 128 px) and every implemented sampler with karras and
# normal (5 steps, 64 px) with a given latentflow binary, then prints the SHA-256 of every output.
# Run it with the binaries of two commits and diff the lists: a refactor must leave them equal.
#   scripts/render-and-hash.sh .build/debug/latentflow /tmp/out-after > /tmp/after.sha
set -euo pipefail
binary=$1; out=$2
cd "$(dirname "$0")/.."
work=$(mktemp -d); rm -rf "$out"; mkdir -p "$out"
python3 - "$work" <<'PY'
import json, struct, sys
work = sys.argv[1]
for fixture in ["comfyui_parity", "comfyui_parity_sd21"]:
    data = open(f"Tests/LatentflowEndToEndTests/Fixtures/{fixture}.safetensors", "rb").read()
    header = json.loads(data[8:8 + struct.unpack("<Q", data[:8])[0]])
    for name, workflow in json.loads(header["__metadata__"]["workflows"]).items():
        for node_id, node in workflow.items():
            inputs = node["inputs"]
            if "ckpt_name" in inputs: inputs["ckpt_name"] = "latentflow-tiny-sd15.safetensors"
            if "lora_name" in inputs: inputs["lora_name"] = "latentflow-tiny-lora.safetensors"
            if "filename_prefix" in inputs: inputs["filename_prefix"] = f"{fixture}-{name}-{node_id}"
            if node["class_type"] == "EmptyLatentImage":
                scale = max(inputs["width"], inputs["height"]) / 128
                if scale > 1:
                    inputs["width"], inputs["height"] = (int(inputs[k] / scale) // 8 * 8 for k in ("width", "height"))
        json.dump(workflow, open(f"{work}/{fixture}-{name}.json", "w"))
base = json.load(open("workflows/euler-tiny.json"))
samplers = ("euler euler_ancestral heun heunpp2 dpm_2 dpm_2_ancestral lms dpmpp_2s_ancestral dpmpp_sde dpmpp_sde_gpu "
            "dpmpp_2m dpmpp_2m_sde dpmpp_2m_sde_gpu dpmpp_2m_sde_heun dpmpp_3m_sde ddpm lcm ipndm ipndm_v res_multistep "
            "res_multistep_ancestral gradient_estimation er_sde seeds_2 seeds_3 ddim uni_pc uni_pc_bh2").split()
for i, sampler in enumerate(samplers):
    for scheduler in ["karras", "normal"]:
        workflow = json.loads(json.dumps(base))
        for node in workflow.values():
            if node["class_type"] == "KSampler":
                node["inputs"].update(sampler_name=sampler, scheduler=scheduler, steps=5, seed=1000 + i)
            if node["class_type"] == "EmptyLatentImage": node["inputs"].update(width=64, height=64)
            if "filename_prefix" in node["inputs"]: node["inputs"]["filename_prefix"] = f"s-{sampler}-{scheduler}"
        json.dump(workflow, open(f"{work}/sampler-{sampler}-{scheduler}.json", "w"))
PY
for workflow in "$work"/*.json; do
    "$binary" run "$workflow" --output-dir "$out" > /dev/null 2>> "$out.log" || echo "FAILED $workflow" >&2
done
(cd "$out" && find . -type f | sort | xargs sha256sum)
rm -rf "$work"
