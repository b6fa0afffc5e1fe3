#!/usr/bin/env python3
"""Build comfyui-object-info-sd.json / excluded.json from a raw object_info dump
(produced by tools/dump_object_info.py against a ComfyUI v0.3.64 source tree).

usage: make_snapshot.py RAW_DUMP.json COMMIT OUTDIR [api=API_CLASSES.json] [LABEL=LATER_RAW_DUMP.json ...]

api=FILE: {class: python_module} of the API nodes (comfy_api_nodes), listed in excluded.json.

Each LABEL=DUMP (a dump of a later ComfyUI) adds "changed after v0.3.64" notes to the entries whose
schema differs there (compared with compare.py's rules).
"""
import json, sys, os, copy

RAW, COMMIT, OUTDIR = sys.argv[1], sys.argv[2], sys.argv[3]
LATER = [a.split("=", 1) for a in sys.argv[4:] if not a.startswith("api=")]
API = [a[4:] for a in sys.argv[4:] if a.startswith("api=")]   # {class: module} of comfy_api_nodes
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import compare
raw = json.load(open(RAW))

# ---------------------------------------------------------------- selection
# Classes excluded from the SD1.5/SD2.x set, with a one-line reason each.
FAMILY = {
    "comfy_extras.nodes_ace": "ACE-Step audio model family (not SD1/SD2)",
    "comfy_extras.nodes_audio": "audio nodes (Stable Audio / audio I/O), not SD1/SD2 image generation",
    "comfy_extras.nodes_audio_encoder": "audio encoder (Whisper/wav2vec) nodes, used by Wan S2V",
    "comfy_extras.nodes_camera_trajectory": "Wan camera-control video conditioning",
    "comfy_extras.nodes_chroma_radiance": "Chroma Radiance (pixel-space Flux derivative) model family",
    "comfy_extras.nodes_clip_sdxl": "SDXL-only text encode (needs CLIP-G + size conditioning)",
    "comfy_extras.nodes_cosmos": "NVIDIA Cosmos video model family",
    "comfy_extras.nodes_edit_model": "reference-latent conditioning for edit models (Flux Kontext / Qwen-Image-Edit / OmniGen2)",
    "comfy_extras.nodes_flux": "Flux model family",
    "comfy_extras.nodes_hidream": "HiDream model family",
    "comfy_extras.nodes_hunyuan": "Hunyuan DiT / HunyuanVideo / HunyuanImage model family",
    "comfy_extras.nodes_hunyuan3d": "Hunyuan3D (3D mesh generation)",
    "comfy_extras.nodes_load_3d": "3D model loading / preview",
    "comfy_extras.nodes_lt": "LTX-Video model family",
    "comfy_extras.nodes_lumina2": "Lumina 2 model family",
    "comfy_extras.nodes_mochi": "Mochi video model family",
    "comfy_extras.nodes_model_patch": "model patches for Qwen-Image / Flux (DiffSynth controlnet, USO)",
    "comfy_extras.nodes_photomaker": "PhotoMaker (SDXL-only ID adapter)",
    "comfy_extras.nodes_pixart": "PixArt model family (T5 text encoder)",
    "comfy_extras.nodes_qwen": "Qwen-Image-Edit text encode",
    "comfy_extras.nodes_sd3": "SD3 / SD3.5 model family",
    "comfy_extras.nodes_slg": "skip-layer guidance for DiT models (SD3/Flux/Wan), no SD1/SD2 UNet support",
    "comfy_extras.nodes_stable3d": "Stable Zero123 / SV3D (3D novel-view models)",
    "comfy_extras.nodes_stable_cascade": "Stable Cascade model family",
    "comfy_extras.nodes_train": "LoRA training nodes (out of scope for an inference engine)",
    "comfy_extras.nodes_video": "video file I/O (VIDEO type)",
    "comfy_extras.nodes_wan": "Wan video model family",
    "comfy_extras.nodes_webcam": "frontend webcam capture widget (browser-only input)",
    "comfy_extras.nodes_mochi": "Mochi video model family",
    "comfy_extras.nodes_video_model": "Stable Video Diffusion / video-model nodes",
}
CLASS = {
    # nodes.py
    "DualCLIPLoader": "loads two text encoders (SDXL/SD3/Flux/HunyuanVideo/HiDream types); SD1/SD2 use one CLIP",
    # nodes_attention_multiply
    "UNetTemporalAttentionMultiply": "temporal attention of video UNets (SVD); SD1/SD2 UNets have none",
    # nodes_cond
    "T5TokenizerOptions": "T5 tokenizer options (SD3/Flux/PixArt/Mochi text encoders)",
    # nodes_context_windows
    "ContextWindowsManual": "sliding context windows over the temporal dim of video models",
    "WanContextWindowsManual": "Wan video context windows",
    # nodes_controlnet
    "SetUnionControlNetType": "ControlNet-Union (ControlNet++ / Flux union) type selector; those models are SDXL/Flux",
    "ControlNetInpaintingAliMamaApply": "AliMama inpainting ControlNet (Flux / SD3)",
    # nodes_images
    "SaveSVGNode": "saves the SVG type produced by API nodes (Recraft)",
    # nodes_model_advanced
    "ModelSamplingAuraFlow": "AuraFlow / flow-matching model sampling (shift) for DiT models",
    "ModelSamplingFlux": "Flux model sampling",
    "ModelSamplingSD3": "SD3 flow-matching model sampling",
    "ModelSamplingStableCascade": "Stable Cascade model sampling",
    # nodes_model_merging_model_specific
    "ModelMergeAuraflow": "AuraFlow block merge",
    "ModelMergeCosmos14B": "Cosmos block merge",
    "ModelMergeCosmos7B": "Cosmos block merge",
    "ModelMergeCosmosPredict2_14B": "Cosmos Predict2 block merge",
    "ModelMergeCosmosPredict2_2B": "Cosmos Predict2 block merge",
    "ModelMergeFlux1": "Flux block merge",
    "ModelMergeLTXV": "LTX-Video block merge",
    "ModelMergeMochiPreview": "Mochi block merge",
    "ModelMergeQwenImage": "Qwen-Image block merge",
    "ModelMergeSD35_Large": "SD3.5 Large block merge",
    "ModelMergeSD3_2B": "SD3 Medium block merge",
    "ModelMergeSDXL": "SDXL-only block merge (SDXL UNet block layout)",
    "ModelMergeWAN2_1": "Wan 2.1 block merge",
    # nodes_optimalsteps
    "OptimalStepsScheduler": "model_type only offers FLUX / Wan / Chroma (no SD1/SD2 schedule)",
    # nodes_torch_compile
    "TorchCompileModel": "PyTorch torch.compile backend switch; meaningless for a non-PyTorch engine",
}

included, excluded = {}, {}
for name, e in raw.items():
    mod = e["python_module"]
    if name in CLASS:
        excluded[name] = CLASS[name]
    elif mod in FAMILY:
        excluded[name] = FAMILY[mod]
    elif e.get("api_node"):
        excluded[name] = "API node (remote paid service)"
    else:
        included[name] = e

# ---------------------------------------------------------------- notes
NOTES = {
    "VAELoader": "vae_name = files in models/vae, then 'taesd' / 'taesdxl' / 'taesd3' / 'taef1' when both encoder and decoder files of that TAESD are in models/vae_approx, then 'pixel_space' (always).",
    "LoadImage": "image = files in the input directory filtered to image content types (plus subfolders); 'image_upload' adds an upload widget in the UI.",
    "LoadImageMask": "image = all files in the input directory (not filtered by content type).",
    "LoadImageOutput": "V3 remote combo: options are not in object_info; the frontend fetches them from /internal/files/output. Shown here as <folder:output>.",
    "LoadLatent": "latent = *.latent files in the input directory.",
    "DiffusersLoader": "model_path = every folder under models/diffusers containing model_index.json (relative path).",
    "CheckpointLoader": "deprecated upstream (DEPRECATED=True); config_name = files in models/configs.",
    "ControlNetApply": "deprecated upstream (DEPRECATED=True); superseded by ControlNetApplyAdvanced.",
    "PerpNeg": "deprecated upstream; superseded by PerpNegGuider.",
    "CLIPLoader": "For SD1.5/SD2 the relevant type is 'stable_diffusion'; the full type list is kept so the schema compares exactly.",
    "UNETLoader": "Reads models/diffusion_models (legacy name 'unet').",
    "LotusConditioning": "Lotus depth/normal models are SD2.x-based (comfy/supported_models.py LotusD(SD20)).",
    "SDTurboScheduler": "SD-Turbo is SD2.1-based.",
    "SD_4XUpscale_Conditioning": "For the SD2 x4 upscaler (stable-diffusion-x4-upscaler).",
    "KSampler": "sampler_name = comfy.samplers.KSampler.SAMPLERS (KSAMPLER_NAMES + ddim, uni_pc, uni_pc_bh2); scheduler = SCHEDULER_NAMES.",
}
HOOKS_NOTE = ("hooks family: model-agnostic (LoRA / model-as-LoRA hooks, per-conditioning hook scheduling) and usable with SD1.5, "
              "so included; upstream marks it EXPERIMENTAL (experimental: true) -- a coverage test may tier these separately.")

INPUT_FILES = {"__INPUT__.png", "__INPUT__.latent"}
EMPTY_COMBO_FOLDER = {("DiffusersLoader", "model_path"): "<folder:diffusers>",
                      ("LoadImageOutput", "image"): "<folder:output>"}

def norm_spec(cls, name, spec):
    spec = copy.deepcopy(spec)
    t = spec[0]
    opts = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
    opts = {k: v for k, v in opts.items() if k != "tooltip"}
    if t == "COMBO":                      # V3 schema combo -> classic [[options], {...}]
        t = opts.pop("options", None) or []
        if opts.get("multiselect") is False:
            opts.pop("multiselect")
    if isinstance(t, list):
        if any(o in INPUT_FILES for o in t):       # files of the input directory -> one placeholder
            t = ["<folder:input>"]
        # (other lists are kept verbatim, duplicates included: ImageScaleToMaxDimension lists 'bilinear' twice)
        if not t and (cls, name) in EMPTY_COMBO_FOLDER:
            t = [EMPTY_COMBO_FOLDER[(cls, name)]]
    return [t, opts] if opts else [t]

def split_folder_literals(ent):
    """A combo of a folder's files plus fixed names (VAELoader: files + taesd* + 'pixel_space') is written
    ["<folder:X>"] (one placeholder, as Latentflow's NodeCoverage expects); the fixed names go to
    the entry's extra key folder_combo_literals {input: [names]}."""
    lits = {}
    for sec, d in ent["input"].items():
        for n, s in d.items():
            if isinstance(s[0], list) and len(s[0]) > 1 and any(o.startswith("<folder:") for o in s[0]):
                ph = [o for o in s[0] if o.startswith("<folder:")]
                lits[n] = [o for o in s[0] if not o.startswith("<folder:")]
                s[0] = ph
    if lits:
        ent["folder_combo_literals"] = lits

snap = {}
for name in sorted(included):
    e = included[name]
    mod = e["python_module"]
    path = "nodes.py" if mod == "nodes" else mod.replace(".", "/") + ".py"
    ent = {"input": {}, "input_order": {}}
    for sec in ("required", "optional"):
        if sec in e["input"]:
            ent["input"][sec] = {n: norm_spec(name, n, s) for n, s in e["input"][sec].items()}
            ent["input_order"][sec] = list(e["input_order"].get(sec, e["input"][sec].keys()))
    split_folder_literals(ent)
    ent["output"] = list(e["output"])
    ent["output_is_list"] = list(e["output_is_list"])
    ent["output_name"] = list(e["output_name"])
    ent["name"] = e["name"]
    ent["display_name"] = e["display_name"]
    ent["category"] = e["category"]
    ent["output_node"] = bool(e["output_node"])
    ent["python_module"] = mod
    if e.get("deprecated"):
        ent["deprecated"] = True
    if e.get("experimental"):
        ent["experimental"] = True
    ent["source"] = f"{path}@{COMMIT}"
    notes = []
    if name in NOTES:
        notes.append(NOTES[name])
    if mod == "comfy_extras.nodes_hooks":
        notes.append(HOOKS_NOTE)
    if "api_node" in e:   # only V3 (comfy_api) nodes carry api_node/deprecated/experimental keys
        notes.append("V3 node (comfy_api io.Schema); shown in the classic shape: [\"COMBO\", {options}] -> [[options], {...}], empty {} dropped.")
    if notes:
        ent["notes"] = " ".join(notes)
    snap[name] = ent

# later drift
for label, path in LATER:
    later = json.load(open(path))
    for name, ent in snap.items():
        if name not in later:
            d = ["class removed"]
        else:
            d = [x.replace("snapshot's", "v0.3.64's").replace("snapshot has", "v0.3.64 has")
                  .replace("is not in the snapshot", "is new") for x in compare.entry_diffs(name, ent, later[name])]
        if d:
            txt = f"Changed after v0.3.64 (seen in {label}): " + "; ".join(d) + "."
            ent["notes"] = (ent.get("notes", "") + " " + txt).strip()

# sanity: every folder/dynamic combo replaced
for name, ent in snap.items():
    for sec, d in ent["input"].items():
        for n, s in d.items():
            if isinstance(s[0], list) and not s[0]:
                print("WARNING empty combo", name, n, file=sys.stderr)

json.dump(snap, open(os.path.join(OUTDIR, "comfyui-object-info-sd.json"), "w"), indent=1, sort_keys=False)
exc_mod = {k: raw[k]["python_module"] for k in excluded}
for path in API:
    for k, mod in json.load(open(path)).items():
        if k not in raw:
            excluded[k] = "API node (" + mod.split(".")[-1] + ": remote paid service, needs a Comfy account)"
            exc_mod[k] = mod
exc = {k: {"reason": excluded[k], "python_module": exc_mod[k]} for k in sorted(excluded)}
json.dump(exc, open(os.path.join(OUTDIR, "excluded.json"), "w"), indent=1)
print("included", len(snap), "excluded", len(exc), "total", len(raw), file=sys.stderr)
