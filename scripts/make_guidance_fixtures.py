"""Reference outputs of ComfyUI's guidance patches (pre/post-CFG hooks, cfg functions, the
denoise-mask function) on small random predictions, and of whole samplings through them.

Run by hand (never by CI): /work/venv-torch/bin/python scripts/make_guidance_fixtures.py
Writes Tests/LatentflowSamplingTests/Fixtures/guidance.safetensors.

Each hook is a transcription, in torch, of ComfyUI v0.3.64's function (file and function named
above each), and so is the pipeline that applies them (`comfy/samplers.py` `sampling_function` /
`cfg_function`: pre-CFG list, then the cfg function or uncond + (cond − uncond)·cfg on x − noise,
then the post-CFG list; cfg ≈ 1 gives the negative as zeros). The whole samplings run
k-diffusion's euler and dpmpp_2m (`comfy/k_diffusion/sampling.py`) over a deterministic stand-in
denoiser (`stand_in`, restated in GuidanceHookTests.swift).
"""
import json
import math
import os

import torch
from safetensors.torch import save_file

torch.set_num_threads(1)
torch.manual_seed(2024)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "LatentflowSamplingTests", "Fixtures")


# --- The hooks (args dicts as comfy/samplers.py builds them) -----------------------------------
def rescale_cfg(multiplier):
    """comfy_extras/nodes_model_advanced.py RescaleCFG.patch.rescale_cfg (noise in, noise out)."""
    def fn(args):
        cond, uncond, cond_scale = args["cond"], args["uncond"], args["cond_scale"]
        sigma = args["sigma"]
        sigma = sigma.view(sigma.shape[:1] + (1,) * (cond.ndim - 1))
        x_orig = args["input"]
        x = x_orig / (sigma * sigma + 1.0)
        cond = ((x - (x_orig - cond)) * (sigma ** 2 + 1.0) ** 0.5) / (sigma)
        uncond = ((x - (x_orig - uncond)) * (sigma ** 2 + 1.0) ** 0.5) / (sigma)
        x_cfg = uncond + cond_scale * (cond - uncond)
        ro_pos = torch.std(cond, dim=(1, 2, 3), keepdim=True)
        ro_cfg = torch.std(x_cfg, dim=(1, 2, 3), keepdim=True)
        x_rescaled = x_cfg * (ro_pos / ro_cfg)
        x_final = multiplier * x_rescaled + (1.0 - multiplier) * x_cfg
        return x_orig - (x - x_final * sigma / (sigma * sigma + 1.0) ** 0.5)
    return ("cfg", fn)


def optimized_scale(positive, negative):
    """comfy_extras/nodes_cfg.py optimized_scale."""
    positive_flat = positive.reshape(positive.shape[0], -1)
    negative_flat = negative.reshape(negative.shape[0], -1)
    dot_product = torch.sum(positive_flat * negative_flat, dim=1, keepdim=True)
    squared_norm = torch.sum(negative_flat ** 2, dim=1, keepdim=True) + 1e-8
    st_star = dot_product / squared_norm
    return st_star.reshape([positive.shape[0]] + [1] * (positive.ndim - 1))


def cfg_zero_star():
    """comfy_extras/nodes_cfg.py CFGZeroStar.execute.cfg_zero_star."""
    def fn(args):
        guidance_scale, x = args["cond_scale"], args["input"]
        cond_p, uncond_p, out = args["cond_denoised"], args["uncond_denoised"], args["denoised"]
        alpha = optimized_scale(x - cond_p, x - uncond_p)
        return out + uncond_p * (alpha - 1.0) + guidance_scale * uncond_p * (1.0 - alpha)
    return ("post", fn)


def cfg_norm(strength):
    """comfy_extras/nodes_cfg.py CFGNorm.execute.cfg_norm."""
    def fn(args):
        cond_p, pred_text_ = args["cond_denoised"], args["denoised"]
        norm_full_cond = torch.norm(cond_p, dim=1, keepdim=True)
        norm_pred_text = torch.norm(pred_text_, dim=1, keepdim=True)
        scale = (norm_full_cond / (norm_pred_text + 1e-8)).clamp(min=0.0, max=1.0)
        return pred_text_ * scale * strength
    return ("post", fn)


def score_tangential_damping(cond_score, uncond_score):
    """comfy_extras/nodes_tcfg.py score_tangential_damping."""
    batch_num = cond_score.shape[0]
    cond_score_flat = cond_score.reshape(batch_num, 1, -1).float()
    uncond_score_flat = uncond_score.reshape(batch_num, 1, -1).float()
    score_matrix = torch.cat((uncond_score_flat, cond_score_flat), dim=1)
    _, _, Vh = torch.linalg.svd(score_matrix, full_matrices=False)
    v1 = Vh[:, 0:1, :]
    uncond_score_td = (uncond_score_flat @ v1.transpose(-2, -1)) * v1
    return uncond_score_td.reshape_as(uncond_score).to(uncond_score.dtype)


def tcfg():
    """comfy_extras/nodes_tcfg.py TCFG.execute.tangential_damping_cfg."""
    def fn(args):
        x, conds_out = args["input"], args["conds_out"]
        if len(conds_out) <= 1 or None in args["conds"][:2]:
            return conds_out
        cond_pred, uncond_pred = conds_out[0], conds_out[1]
        uncond_td = score_tangential_damping(x - cond_pred, x - uncond_pred)
        return [cond_pred, x - uncond_td] + conds_out[2:]
    return ("pre", fn)


def epsilon_scaling(scaling_factor):
    """comfy_extras/nodes_eps.py EpsilonScaling.execute.epsilon_scaling_function."""
    def fn(args):
        denoised, x = args["denoised"], args["input"]
        return x - (x - denoised) / scaling_factor
    return ("post", fn)


def perp_neg(x, noise_pred_pos, noise_pred_neg, noise_pred_nocond, neg_scale, cond_scale):
    """comfy_extras/nodes_perpneg.py perp_neg."""
    pos = noise_pred_pos - noise_pred_nocond
    neg = noise_pred_neg - noise_pred_nocond
    perp = neg - ((torch.mul(neg, pos).sum()) / (torch.norm(pos) ** 2)) * pos
    return noise_pred_nocond + cond_scale * (pos - perp * neg_scale)


def perp_neg_node(neg_scale):
    """comfy_extras/nodes_perpneg.py PerpNeg.execute.cfg_function (nocond from calc_cond_batch)."""
    def fn(args):
        x = args["input"]
        (nocond,) = calc_cond_batch([EMPTY], x, args["sigma"])
        return x - perp_neg(x, args["cond_denoised"], args["uncond_denoised"], nocond, neg_scale, args["cond_scale"])
    return ("cfg", fn)


# --- comfy/samplers.py sampling_function / cfg_function ----------------------------------------
POS, NEG, EMPTY = "positive", "negative", "empty"
fixed, current = {}, {"mode": "fixed"}
CONTEXTS = {POS: 0.3, NEG: -0.2, EMPTY: 0.05}


def calc_cond_batch(conds, x, sigma):
    out = []
    for cond in conds:
        if cond is None:
            out.append(torch.zeros_like(x))  # None conds stay 0 / 1e-37
        elif current["mode"] == "fixed":
            out.append(fixed[cond].clone())
        else:
            out.append(stand_in(x, sigma, CONTEXTS[cond]))
    return out


def sampling_function(x, sigma, cond_scale, hooks):
    uncond_ = None if math.isclose(cond_scale, 1.0) else NEG
    conds = [POS, uncond_]
    out = calc_cond_batch(conds, x, sigma)
    for kind, fn in hooks:
        if kind == "pre":
            out = fn({"conds": conds, "conds_out": out, "cond_scale": cond_scale, "timestep": sigma, "input": x,
                      "sigma": sigma})
    cond_pred, uncond_pred = out[0], out[1]
    cfg_fns = [fn for kind, fn in hooks if kind == "cfg"]  # set_model_sampler_cfg_function replaces
    if cfg_fns:
        args = {"cond": x - cond_pred, "uncond": x - uncond_pred, "cond_scale": cond_scale, "timestep": sigma,
                "input": x, "sigma": sigma, "cond_denoised": cond_pred, "uncond_denoised": uncond_pred}
        cfg_result = x - cfg_fns[-1](args)
    else:
        cfg_result = uncond_pred + (cond_pred - uncond_pred) * cond_scale
    for kind, fn in hooks:
        if kind == "post":
            cfg_result = fn({"denoised": cfg_result, "cond_scale": cond_scale, "uncond_denoised": uncond_pred,
                             "cond_denoised": cond_pred, "sigma": sigma, "input": x})
    return cfg_result


# --- SD1.5's discrete model sampling (comfy/model_sampling.py ModelSamplingDiscrete, EPS) -------
betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2
alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
model_sigmas = (((1 - alphas_cumprod) / alphas_cumprod) ** 0.5).float()
log_sigmas = model_sigmas.log()


def timestep(sigma):
    dists = sigma.log() - log_sigmas[:, None]
    return dists.abs().argmin(dim=0).view(sigma.shape)


def stand_in(x, sigma, context):
    """eps = tanh(0.7·x_in + context)·0.9 behind EPS calculate_input / calculate_denoised."""
    s = sigma.view(sigma.shape[:1] + (1,) * (x.ndim - 1))
    x_in = x / (s ** 2 + 1.0) ** 0.5
    return x - torch.tanh(x_in * 0.7 + context) * 0.9 * s


tensors, cases = {}, {}
shape = (2, 4, 5, 6)
x = torch.randn(shape) * 3
for name in [POS, NEG, EMPTY]:
    fixed[name] = torch.randn(shape)
tensors.update({"x": x, "positive": fixed[POS], "negative": fixed[NEG], "empty": fixed[EMPTY]})
SIGMA = 2.5


def step_case(name, hooks, cfg, description):
    tensors[name] = sampling_function(x, torch.tensor([SIGMA]), cfg, [h for h, _ in hooks]).contiguous()
    cases[name] = {"patches": [p for _, p in hooks], "cfg": cfg, "sigma": SIGMA, "what": description}


def h(hook, *patch):
    return (hook, list(patch))


step_case("rescale_cfg", [h(rescale_cfg(0.7), "RescaleCFG", 0.7)], 6.0, "")
step_case("rescale_cfg_m0", [h(rescale_cfg(0.0), "RescaleCFG", 0.0)], 6.0, "multiplier 0 is plain CFG")
step_case("cfg_zero_star", [h(cfg_zero_star(), "CFGZeroStar")], 6.0, "")
step_case("cfg_zero_star_cfg1", [h(cfg_zero_star(), "CFGZeroStar")], 1.0, "uncond skipped (zeros)")
step_case("cfg_norm", [h(cfg_norm(0.8), "CFGNorm", 0.8)], 6.0, "")
step_case("tcfg", [h(tcfg(), "TCFG")], 6.0, "")
step_case("tcfg_cfg1", [h(tcfg(), "TCFG")], 1.0, "skipped: uncond None")
step_case("epsilon_scaling", [h(epsilon_scaling(1.1), "Epsilon Scaling", 1.1)], 6.0, "")
step_case("perp_neg", [h(perp_neg_node(0.7), "PerpNeg", 0.7)], 6.0, "empty_conditioning predicts `empty`")
step_case("chain", [h(tcfg(), "TCFG"), h(rescale_cfg(0.5), "RescaleCFG", 0.5), h(cfg_zero_star(), "CFGZeroStar"),
                    h(cfg_norm(0.9), "CFGNorm", 0.9), h(epsilon_scaling(1.02), "Epsilon Scaling", 1.02)], 5.0, "")
step_case("two_cfg_functions", [h(rescale_cfg(0.2), "RescaleCFG", 0.2), h(rescale_cfg(0.9), "RescaleCFG", 0.9)], 4.0,
          "the last cfg function wins")
step_case("post_order", [h(epsilon_scaling(1.3), "Epsilon Scaling", 1.3), h(cfg_norm(0.5), "CFGNorm", 0.5)], 4.0,
          "post-CFG functions run in the order applied")
step_case("post_order_reversed", [h(cfg_norm(0.5), "CFGNorm", 0.5), h(epsilon_scaling(1.3), "Epsilon Scaling", 1.3)],
          4.0, "")
# PerpNegGuider's combination on denoised predictions (Guider_PerpNeg.predict_noise, no hooks).
tensors["perp_neg_guider"] = perp_neg(x, fixed[POS], fixed[NEG], fixed[EMPTY], 0.7, 6.0).contiguous()
cases["perp_neg_guider"] = {"neg_scale": 0.7, "cfg": 6.0}


# --- DifferentialDiffusion.forward (comfy_extras/nodes_differential_diffusion.py) --------------
def differential_diffusion(sigma, denoise_mask, step_sigmas, strength):
    sigma_to = model_sigmas[0]  # model_sampling.sigma_min
    if step_sigmas[-1] > sigma_to:
        sigma_to = step_sigmas[-1]
    sigma_from = step_sigmas[0]
    ts_from, ts_to, current_ts = timestep(sigma_from), timestep(sigma_to), timestep(sigma[0])
    threshold = (current_ts - ts_to) / (ts_from - ts_to)
    binary_mask = (denoise_mask >= threshold).to(denoise_mask.dtype)
    if strength and strength < 1:
        return strength * binary_mask + (1 - strength) * denoise_mask
    return binary_mask


mask = torch.rand(1, 4, 5, 6)
dd_sigmas = torch.tensor([14.614642, 6.0, 2.5, 0.9, 0.0])
tensors["dd.mask"], tensors["dd.sigmas"] = mask, dd_sigmas
dd_at = [14.614642, 6.0, 0.9]
for strength in [1.0, 0.6]:
    for i, sigma in enumerate(dd_at):
        tensors[f"dd.{strength}.{i}"] = differential_diffusion(torch.tensor([sigma]), mask, dd_sigmas, strength)
cases["dd"] = {"strengths": [1.0, 0.6], "sigmas": dd_at}


# --- Whole samplings: k-diffusion euler and dpmpp_2m through sampling_function ----------------
def sample_euler(model, x, sigmas):
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * x.new_ones([x.shape[0]]))
        d = (x - denoised) / sigmas[i]
        x = x + d * (sigmas[i + 1] - sigmas[i])
    return x


def sample_dpmpp_2m(model, x, sigmas):
    old_denoised = None
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * x.new_ones([x.shape[0]]))
        t, t_next = -sigmas[i].log(), -sigmas[i + 1].log()
        h = t_next - t
        if old_denoised is None or sigmas[i + 1] == 0:
            x = (sigmas[i + 1] / sigmas[i]) * x - (-h).expm1() * denoised
        else:
            h_last = t - (-sigmas[i - 1].log())
            r = h_last / h
            denoised_d = (1 + 1 / (2 * r)) * denoised - (1 / (2 * r)) * old_denoised
            x = (sigmas[i + 1] / sigmas[i]) * x - (-h).expm1() * denoised_d
        old_denoised = denoised
    return x


current["mode"] = "stand_in"
# karras, 6 steps, SD1.5's sigma range (k_diffusion get_sigmas_karras, rho 7), trailing 0.
ramp = torch.linspace(0, 1, 6)
min_inv, max_inv = model_sigmas[0] ** (1 / 7), model_sigmas[-1] ** (1 / 7)
sigmas = torch.cat([(max_inv + ramp * (min_inv - max_inv)) ** 7, torch.zeros(1)])
noise = torch.randn(1, 4, 6, 6)
tensors["run.sigmas"], tensors["run.noise"] = sigmas, noise
runs = {
    "plain": [],
    "rescale_zero_star": [h(rescale_cfg(0.7), "RescaleCFG", 0.7), h(cfg_zero_star(), "CFGZeroStar")],
    "tcfg_norm_eps": [h(tcfg(), "TCFG"), h(cfg_norm(1.0), "CFGNorm", 1.0), h(epsilon_scaling(1.005), "Epsilon Scaling", 1.005)],
}
for sampler, fn in [("euler", sample_euler), ("dpmpp_2m", sample_dpmpp_2m)]:
    for run_name, hooks in runs.items():
        model = lambda x_, s_, hooks=hooks: sampling_function(x_, s_, 5.0, [hook for hook, _ in hooks])  # noqa: E731
        tensors[f"run.{sampler}.{run_name}"] = fn(model, noise * sigmas[0], sigmas).contiguous()
cases["runs"] = {"samplers": ["euler", "dpmpp_2m"], "runs": {k: [p for _, p in v] for k, v in runs.items()}, "cfg": 5.0,
                 "contexts": CONTEXTS}

# --- DifferentialDiffusion through KSamplerX0Inpaint (comfy/samplers.py) in an euler run ---------
latent = torch.randn(1, 4, 6, 6)
soft_mask = torch.rand(1, 4, 6, 6)
tensors["inpaint.latent"], tensors["inpaint.mask"] = latent, soft_mask


def inpaint_model(x_, s_):
    m = differential_diffusion(s_, soft_mask, sigmas, 0.8)
    x_ = x_ * m + (latent + noise * s_.view(-1, 1, 1, 1)) * (1. - m)  # EPS scale_latent_inpaint
    out = sampling_function(x_, s_, 1.0, [])
    return out * m + latent * (1. - m)


tensors["inpaint.euler.dd"] = sample_euler(inpaint_model, noise * sigmas[0] + latent, sigmas).contiguous()
cases["inpaint"] = {"strength": 0.8, "cfg": 1.0}

save_file({k: v.float().contiguous() for k, v in tensors.items()}, os.path.join(OUT, "guidance.safetensors"),
          metadata={"cases": json.dumps(cases), "reference": "ComfyUI v0.3.64, transcribed"})
print("wrote", len(tensors), "tensors to", os.path.normpath(os.path.join(OUT, "guidance.safetensors")))
