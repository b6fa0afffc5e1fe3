#!/usr/bin/env python3
"""Hook references from ComfyUI v0.3.64's own code (run by hand, never by CI).

    /work/venv-torch/bin/python scripts/make_hooks_fixtures.py /tmp/comfy0364 /tmp/cextra

Writes, under Tests/LatentflowNodesTests/Fixtures:
  - hooks_keyframes.json: the keyframes `comfy_extras/nodes_hooks.py` CreateHookKeyframesInterpolated
    and CreateHookKeyframesFromFloats make (start_percent, strength, guarantee_steps, as the
    float64 value of ComfyUI's float32 results), per case.
  - hooks_reference.safetensors: nodes.KSampler (seed 7, 10 steps, cfg 3, euler, normal, 64x64
    EmptyLatentImage) on the tiny checkpoint (scripts/comfyui_tiny.py) with random text
    embeddings (`positive`, `positive2`, `negative`), for these conditionings:
      plain:       the positive as it is;
      lora:        the positive through ConditioningSetProperties with CreateHookLora
                   (models/loras/latentflow-tiny-lora.safetensors, strength_model 4.0);
      lora_full:   the same LoRA through LoraLoaderModelOnly (every entry patched);
      keyframes:   the `lora` hook with CreateHookKeyframe 1.0@0, 0.25@0.3, 1.5@0.6
                   (SetHookKeyframes); the strength in force at each model call is in the
                   metadata (`schedule.keyframes`, as ComfyUI's HookKeyframeGroup reports it);
      interpolated: the `lora` hook with CreateHookKeyframesInterpolated 0.0 -> 1.2 ease_in_out,
                   0.1..0.9, 4 keyframes (`schedule.interpolated`);
      default:     ConditioningSetProperties on the positive with a left-half mask of 0.6 and
                   ConditioningTimestepsRange 0.0..0.7, then ConditioningSetDefaultCombine with
                   `positive2` (which covers what the mask leaves, and everything after 0.7);
      default_hooked: `default` with the `lora` hook on the default entry only;
      lora_on_lora: the `lora` hook on a MODEL patched by LoraLoaderModelOnly (the same LoRA, strength 2);
      model_as_lora(_on_lora): a checkpoint as a hook (strength_model 0.5) on the positive, on the
                   plain and on the LoRA-patched MODEL;
      clip_hooked: the positive encoded (CLIPTextEncode, `clip.prompt`) by the tiny text encoder with
                   SetClipHooks (a LoRA hook, strength_model 4, strength_clip 3; apply_to_conds off);
                   `clip.plain` and `clip.hooked` are the encodings without and with the hook;
      clip_hooked_conds: the same with apply_to_conds (the UNet hooked for the positive too);
      clip_scheduled: the hook with keyframes 1.0@0, 0.2@0.5 and schedule_clip: one encoding per
                   span (`clip.scheduled.<i>`, spans in the metadata), each used in its span only.
"""
import json
import os
import sys
import tempfile

import torch
from safetensors.torch import load_file, save_file

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(SCRIPTS, "..")
FIXTURES = os.path.join(ROOT, "Tests", "LatentflowNodesTests", "Fixtures")
LORA = "latentflow-tiny-lora.safetensors"
PROMPT = "a red cube on a (blue:1.2) floor"


def tiny_clip(comfy, checkpoint):
    """ComfyUI's SD1 CLIP (comfy.sd.CLIP over SD1ClipModel) with the tiny text encoder's config
    (width 32, 2 layers, 1 head, MLP 64), loaded from the checkpoint's `cond_stage_model.*`."""
    import functools
    import comfy.sd1_clip
    config = json.load(open(os.path.join(os.path.dirname(comfy.sd1_clip.__file__), "sd1_clip_config.json")))
    config.update(hidden_size=32, intermediate_size=64, num_attention_heads=1, num_hidden_layers=2, projection_dim=32)

    class TinyClip(comfy.sd1_clip.SDClipModel):
        def __init__(self, device="cpu", dtype=None, model_options={}):
            super().__init__(device=device, return_projected_pooled=False, dtype=dtype, model_options=model_options,
                             textmodel_json_config=config)

    class Target:
        params = {}
        tokenizer = comfy.sd1_clip.SD1Tokenizer
        clip = functools.partial(comfy.sd1_clip.SD1ClipModel, clip_model=TinyClip)

    clip = comfy.sd.CLIP(target=Target(), embedding_directory=None)
    prefix = "cond_stage_model.transformer."
    clip.load_sd({k[len(prefix):]: v for k, v in load_file(checkpoint).items() if k.startswith(prefix)})
    return clip


def main():
    comfyui, extras = sys.argv[1], sys.argv[2:]
    sys.path.insert(0, SCRIPTS)
    from comfyui_boot import boot
    boot(comfyui)
    import utils.install_util  # noqa: F401  (ComfyUI's own `utils` before the extras can shadow it)
    sys.path += extras
    torch.set_num_threads(1)
    torch.set_grad_enabled(False)
    import comfy.hooks
    import comfy_extras.nodes_hooks as hooks_nodes
    import comfyui_tiny
    import comfyui_version
    import folder_paths
    import nodes

    folder_paths.add_model_folder_path("loras", os.path.join(ROOT, "models", "loras"), is_default=True)

    # Keyframe values.
    keyframe_cases = {}
    for method in comfy.hooks.InterpolationMethod._LIST:
        for (s0, s1, p0, p1, count) in [(0.0, 1.0, 0.0, 1.0, 5), (1.7, 0.3, 0.15, 0.85, 7), (0.2, 9.5, 0.0, 0.5, 100)]:
            (kf,) = hooks_nodes.CreateHookKeyframesInterpolated().create_hook_keyframes(s0, s1, method, p0, p1, count)
            keyframe_cases[f"{method} {s0} {s1} {p0} {p1} {count}"] = [
                [float(k.start_percent), float(k.strength), int(k.guarantee_steps)] for k in kf.keyframes]
    for floats in [[0.2, 0.5, 1.0, 0.7], [1.3], list(float(i) / 10 for i in range(23))]:
        (kf,) = hooks_nodes.CreateHookKeyframesFromFloats().create_hook_keyframes(floats, 0.1, 0.8)
        keyframe_cases["floats " + " ".join(str(f) for f in floats)] = [
            [float(k.start_percent), float(k.strength), int(k.guarantee_steps)] for k in kf.keyframes]
    # CreateHookKeyframe chained out of order: sorted by start percent, ties in insertion order.
    kf = None
    for strength, percent in [(0.5, 0.6), (2.0, 0.2), (0.7, 0.6), (1.1, 0.0)]:
        (kf,) = hooks_nodes.CreateHookKeyframe().create_hook_keyframe(strength, percent, kf)
    keyframe_cases["chained"] = [[float(k.start_percent), float(k.strength), int(k.guarantee_steps)] for k in kf.keyframes]
    with open(os.path.join(FIXTURES, "hooks_keyframes.json"), "w") as f:
        json.dump({"comfyui_version": comfyui_version.__version__, "cases": keyframe_cases}, f, indent=1)
        f.write("\n")

    # The strength each hook's keyframes give at each model call.
    schedule = []
    original_prepare = comfy.hooks.HookKeyframeGroup.prepare_current_keyframe

    def recording_prepare(self, curr_t, transformer_options):
        fresh = not self.is_empty() and curr_t != self._curr_t
        changed = original_prepare(self, curr_t, transformer_options)
        if fresh:
            schedule.append([float(curr_t), float(self.strength)])
        return changed

    comfy.hooks.HookKeyframeGroup.prepare_current_keyframe = recording_prepare

    model = comfyui_tiny.load_checkpoint(os.path.join(ROOT, "models", "checkpoints", "latentflow-tiny-sd15.safetensors"))
    torch.manual_seed(2052)
    positive_t, positive2_t, negative_t = torch.randn(1, 5, 32), torch.randn(1, 5, 32), torch.randn(1, 5, 32)
    positive, positive2, negative = [[positive_t, {}]], [[positive2_t, {}]], [[negative_t, {}]]
    mask = torch.zeros(1, 8, 8)
    mask[:, :, :4] = 0.6
    out = {"positive": positive_t, "positive2": positive2_t, "negative": negative_t, "mask": mask}
    metadata = {"comfyui_version": comfyui_version.__version__, "torch": torch.__version__,
                "ksampler": "seed 7, 10 steps, cfg 3, euler, normal, EmptyLatentImage 64x64", "lora": LORA}
    (empty,) = nodes.EmptyLatentImage().generate(64, 64, 1)

    def sample(m, pos):
        return nodes.KSampler().sample(m, 7, 10, 3.0, "euler", "normal", pos, negative, empty)[0]["samples"]

    (lora_hook,) = hooks_nodes.CreateHookLora().create_hook(LORA, 4.0, 1.0)
    set_props = hooks_nodes.ConditioningSetProperties()
    out["ksampler.plain"] = sample(model, positive)
    (hooked,) = set_props.set_properties(positive, 1.0, "default", hooks=lora_hook)
    out["ksampler.lora"] = sample(model, hooked)
    (lora_model,) = nodes.LoraLoaderModelOnly().load_lora_model_only(model, LORA, 4.0)
    out["ksampler.lora_full"] = sample(lora_model, positive)

    kf = None
    for strength, percent in [(1.0, 0.0), (0.25, 0.3), (1.5, 0.6)]:
        (kf,) = hooks_nodes.CreateHookKeyframe().create_hook_keyframe(strength, percent, kf)
    (scheduled,) = hooks_nodes.SetHookKeyframes().set_hook_keyframes(lora_hook, kf)
    (hooked,) = set_props.set_properties(positive, 1.0, "default", hooks=scheduled)
    schedule.clear()
    out["ksampler.keyframes"] = sample(model, hooked)
    metadata["schedule.keyframes"] = json.dumps(schedule)

    (kf,) = hooks_nodes.CreateHookKeyframesInterpolated().create_hook_keyframes(0.0, 1.2, "ease_in_out", 0.1, 0.9, 4)
    (scheduled,) = hooks_nodes.SetHookKeyframes().set_hook_keyframes(lora_hook, kf)
    (hooked,) = set_props.set_properties(positive, 1.0, "default", hooks=scheduled)
    schedule.clear()
    out["ksampler.interpolated"] = sample(model, hooked)
    metadata["schedule.interpolated"] = json.dumps(schedule)

    (t_range, _, _) = hooks_nodes.ConditioningTimestepsRange().create_range(0.0, 0.7)
    (masked,) = set_props.set_properties(positive, 1.0, "default", mask=mask, timesteps=t_range)
    (with_default,) = hooks_nodes.ConditioningSetDefaultAndCombine().set_default_and_combine(masked, positive2)
    out["ksampler.default"] = sample(model, with_default)
    (with_default,) = hooks_nodes.ConditioningSetDefaultAndCombine().set_default_and_combine(
        masked, positive2, hooks=lora_hook)
    out["ksampler.default_hooked"] = sample(model, with_default)

    # Hooks over a MODEL already patched by LoraLoaderModelOnly (strength 2), and a checkpoint as a
    # hook (create_hook_model_as_lora, the core of CreateHookModelAsLoraModelOnly, whose node would
    # also load the tiny CLIP ComfyUI cannot build): the tiny checkpoint with its UNet weights
    # times 1.25 in float32, which the Swift test writes the same way.
    (patched_model,) = nodes.LoraLoaderModelOnly().load_lora_model_only(model, LORA, 2.0)
    (hooked,) = set_props.set_properties(positive, 1.0, "default", hooks=lora_hook)
    out["ksampler.lora_on_lora"] = sample(patched_model, hooked)
    target_path = os.path.join(tempfile.mkdtemp(), "hooks-target.safetensors")
    base = load_file(os.path.join(ROOT, "models", "checkpoints", "latentflow-tiny-sd15.safetensors"))
    save_file({k: (v.float() * 1.25 if k.startswith("model.diffusion_model.") else v) for k, v in base.items()},
              target_path)
    target_weights = comfy.hooks.get_patch_weights_from_model(comfyui_tiny.load_checkpoint(target_path))
    model_hook = comfy.hooks.create_hook_model_as_lora(target_weights, None, 0.5, 0.0)
    (hooked,) = set_props.set_properties(positive, 1.0, "default", hooks=model_hook)
    out["ksampler.model_as_lora"] = sample(model, hooked)
    out["ksampler.model_as_lora_on_lora"] = sample(patched_model, hooked)

    # SetClipHooks: the tiny checkpoint's text encoder (float16, as ComfyUI keeps it on CPU) built
    # as ComfyUI's SD1 CLIP with the tiny config, and the `lora` hook (strength_clip 1; the tiny
    # LoRA patches both q_proj layers of the text encoder).
    clip = tiny_clip(comfy, os.path.join(ROOT, "models", "checkpoints", "latentflow-tiny-sd15.safetensors"))
    (clip_cond,) = nodes.CLIPTextEncode().encode(clip, PROMPT)
    out["clip.plain"] = clip_cond[0][0]
    (clip_hook,) = hooks_nodes.CreateHookLora().create_hook(LORA, 4.0, 3.0)
    (hooked_clip,) = hooks_nodes.SetClipHooks().apply_hooks(clip, False, False, clip_hook)
    (clip_cond,) = nodes.CLIPTextEncode().encode(hooked_clip, PROMPT)
    assert len(clip_cond) == 1 and "hooks" not in clip_cond[0][1]
    out["clip.hooked"] = clip_cond[0][0]
    out["ksampler.clip_hooked"] = sample(model, clip_cond)
    (hooked_clip,) = hooks_nodes.SetClipHooks().apply_hooks(clip, False, True, clip_hook)
    (clip_cond,) = nodes.CLIPTextEncode().encode(hooked_clip, PROMPT)
    assert len(clip_cond) == 1 and "hooks" in clip_cond[0][1]
    out["ksampler.clip_hooked_conds"] = sample(model, clip_cond)
    kf = None
    for strength, percent in [(1.0, 0.0), (0.2, 0.5)]:
        (kf,) = hooks_nodes.CreateHookKeyframe().create_hook_keyframe(strength, percent, kf)
    (scheduled,) = hooks_nodes.SetHookKeyframes().set_hook_keyframes(clip_hook, kf)
    (hooked_clip,) = hooks_nodes.SetClipHooks().apply_hooks(hooked_clip, True, True, scheduled)
    (clip_cond,) = nodes.CLIPTextEncode().encode(hooked_clip, PROMPT)
    metadata["clip.scheduled.spans"] = json.dumps(
        [[c[1]["clip_start_percent"], c[1]["clip_end_percent"]] for c in clip_cond])
    for i, c in enumerate(clip_cond):
        out[f"clip.scheduled.{i}"] = c[0]
    out["ksampler.clip_scheduled"] = sample(model, clip_cond)
    metadata["clip.prompt"] = PROMPT

    def psnr(a, b):
        peak = float(b.max() - b.min())
        return 10 * torch.log10(torch.tensor(peak * peak / max(float(((a - b) ** 2).mean()), 1e-30))).item()

    for name in ["lora", "lora_full", "keyframes", "interpolated", "default", "default_hooked", "lora_on_lora",
                 "model_as_lora", "model_as_lora_on_lora", "clip_hooked", "clip_hooked_conds", "clip_scheduled"]:
        print(f"{name} against plain: {psnr(out['ksampler.' + name], out['ksampler.plain']):.1f} dB")
    print("clip spans", metadata["clip.scheduled.spans"])
    print(f"hooked CLIP against plain: {psnr(out['clip.hooked'], out['clip.plain']):.1f} dB")
    print(f"default_hooked against default: {psnr(out['ksampler.default_hooked'], out['ksampler.default']):.1f} dB")
    print(f"lora against lora_full: {psnr(out['ksampler.lora'], out['ksampler.lora_full']):.1f} dB")
    print("schedules", metadata["schedule.keyframes"], metadata["schedule.interpolated"])
    path = os.path.join(FIXTURES, "hooks_reference.safetensors")
    save_file({k: t.contiguous() for k, t in out.items()}, path, metadata=metadata)
    print("wrote", os.path.normpath(path))


if __name__ == "__main__":
    main()
