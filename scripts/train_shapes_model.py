"""Trains the embedded "shapes" model on CPU, then distils it into an LCM by latent consistency
distillation (run by hand, never by CI; about two hours on this repository's 2-core machine).

    W=/tmp/shapes-train; P=/work/venv-torch/bin/python
    $P scripts/train_shapes_model.py data vae latents --work $W
    $P scripts/train_shapes_model.py text decoder --work $W --threads 1
    $P scripts/train_shapes_model.py teacher --work $W
    $P scripts/train_shapes_model.py lcm --work $W --threads 1 & $P scripts/train_shapes_model.py lora --work $W --threads 1; wait
    $P scripts/train_shapes_model.py export --work $W

Stages (each reads the previous stages' files from --work, so a stage can be rerun alone):
  data     24,000 captioned 64x64 images from shapes_dataset.py (training combinations only)
  vae      the AutoencoderKL on 32x32 crops (L2 + L1 reconstruction, SD's KL weight), two cosine cycles
           (VAE_CYCLES); SD1's latent scale 0.18215 is made right by measuring the latents' standard
           deviation, as SD's factor was measured, and folding the correction into quant_conv /
           post_quant_conv
  latents  the frozen encoder's posterior (mean, std) for every image
  text     the CLIP text encoder, pre-trained (SD1.5 took CLIP's, pre-trained, and froze it): here by
           predicting each caption attribute from its states
  teacher  the UNet on the frozen text encoder, as SD1.5 trained its UNet: epsilon prediction,
           scaled-linear betas, uniform timesteps, 10% empty captions for classifier-free guidance, EMA
  decoder  the decoder fine-tuned alone on whole images (encoder frozen), as sd-vae-ft-mse was
  lcm      one-stage guided latent consistency distillation (LCM paper, Algorithm 1; diffusers'
           train_lcm_distill_sd_wds.py): DDIM solver with skipping step k = 20 on SD's 1000 steps,
           w ~ U[w_min, w_max] fed through a guidance embedding (time_cond_proj), Huber loss, EMA target
           network, c_skip/c_out boundary parameterisation (sigma_data 0.5, timestep scaling 10)
           (a second 500-step cycle from its EMA network lowered the 4-step all-five accuracy from 38%
           to 24%: not used)
  lora     the same distillation into a rank-8 LoRA on the frozen teacher (LCM-LoRA), no w embedding,
           the online network as its own target (diffusers' train_lcm_distill_lora_sd_wds.py)
  export   the float16 files (models/checkpoints, models/loras) and the training curves (docs/shapes-model)
  import   the inverse of export: teacher.pt, text.pt, vae.pt, vae-decoder.pt, lcm.pt and lora.pt read back
           from the shipped float16 files (exactly: re-exporting gives the same bytes), so that a distillation
           can be rerun from the shipped teacher without the earlier stages:
               $P scripts/train_shapes_model.py data import latents --work $W --threads 1   (about 10 min)
               $P scripts/train_shapes_model.py lcm --work $W --threads 1

Deterministic for a given torch version and thread count: every stage seeds torch itself (numpy's
generator makes the data). The shipped files came from torch 2.15.0 CPU with the thread counts above
(measured stage times: docs/shapes-model/*-loss.csv, the seconds column).
The first run's 32-channel UNet ignored the prompt's colours: see make_unet.
"""
import argparse
import copy
import csv
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shapes_dataset as shapes  # noqa: E402
from shapes_model import (LATENT_SCALE, ROOT, UNET_ATTENTION, UNET_LEVELS, NoiseSchedule, checkpoint_tensors,  # noqa: E402
                          guidance_scale_embedding, make_text_encoder, make_tokenizer, make_unet, make_vae, tokenize)
from tiny_unet_keys import diffusers_to_ldm, vae_to_ldm  # noqa: E402

STEPS = dict(text=400, teacher=2200, lcm=500, lora=500)
# Peak learning rates of the distillations: the LoRA's zero-initialised up matrices move slowly at the
# full model's rate.
DISTILL_LR = dict(lcm=1e-4, lora=3e-4)
# The guidance scales w (CFG scale w + 1) the distillations sample. Tried and not shipped (held-out 4-step
# all-five accuracy, 240 images, scripts/evaluate_shapes_model.py --captions 120; shipped LCM: 40%, teacher
# at 25 steps: 52%): w in [2, 6] with the learning rate warmed up over 50 steps and decayed on a cosine to a
# tenth over 800 steps (DISTILL_DECAY), distilled from the imported teacher: 42% at step 400, 38% at 800.
W_RANGE = dict(lcm=(1.0, 8.0), lora=(2.0, 6.0))
DISTILL_DECAY = dict(lcm=False, lora=False)
SAVE_EVERY = 500
# The distillations' exported weights: a slow EMA of the online network, kept apart from the LCM's target
# network (EMA 0.95, the LCM paper's), as the consistency-models paper evaluates a separate EMA. Held-out
# 4-step all-five accuracy (240 pictures; teacher at 25 steps: 52%): the target network after 700 steps at
# batch 32 (shipped before) 40%; the slow EMA of a batch-32 run 46% / 45% / 36% / 31% after 500 / 750 /
# 1000 / 1250 steps (longer runs drift from the teacher on captions they never saw); of a batch-64 run
# 40% / 42% / 44% / 48% after 200 / 300 / 400 / 500 steps (shipped: STEPS, BATCH). The LCM-LoRA the same
# way (batch 64, 500 steps): 36%, from 22% with its online network exported after 500 steps at batch 32.
EXPORT_EMA = 0.995
VAE_CYCLES = (600, 900)
DECODER_CYCLES = ((300, 5e-4), (600, 2.5e-4))
BATCH = dict(vae=16, text=128, teacher=64, lcm=64, lora=64, decoder=16)
VAE_CROP = 32  # the VAE is convolutional: it learns on 32x32 crops, 4x cheaper than whole images
K = 20  # LCM's skipping step: 1000 // 50 DDIM timesteps, ComfyUI's ModelSamplingDiscreteDistilled


def log_curve(work, name, rows):
    with open(os.path.join(work, name + "_curve.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["step", "loss", "seconds"])
        w.writerows(rows)


def progress(stage, step, total, loss, start, rows, every=100):
    if step % every == 0 or step == total:
        rows.append((step, "%.6f" % loss, "%.1f" % (time.time() - start)))
        print("%s %5d/%d loss %.5f  %.0f s" % (stage, step, total, loss, time.time() - start), flush=True)


def load(work, name):
    return torch.load(os.path.join(work, name), weights_only=False)


def stage_data(work):
    attrs, images = shapes.make_dataset(24000, seed=0)
    np.savez_compressed(os.path.join(work, "data.npz"), images=images,
                        captions=np.array([shapes.caption(a) for a in attrs]))
    print("data: %d images" % len(images))


def images_tensor(work):
    data = np.load(os.path.join(work, "data.npz"))
    return torch.from_numpy(data["images"]).permute(0, 3, 1, 2).float() / 127.5 - 1, list(data["captions"])


def stage_vae(work):
    """Cosine cycles with warm restarts (VAE_CYCLES); each ends by folding the latent scale. A finished
    cycle is kept in --work (vae-cycle<N>.pt) and not trained again."""
    images, _ = images_tensor(work)
    vae, rows, start = make_vae(), [], time.time()
    for cycle, steps in enumerate(VAE_CYCLES, 1):
        saved = os.path.join(work, "vae-cycle%d.pt" % cycle)
        if os.path.exists(saved):
            vae.load_state_dict(load(work, saved))
            continue
        torch.manual_seed(cycle)
        opt = torch.optim.AdamW(vae.parameters(), lr=1e-3, weight_decay=0.0)
        vae.train()
        for step in range(1, steps + 1):
            batch = images[torch.randint(0, len(images), (BATCH["vae"],))]
            y, x = torch.randint(0, images.shape[2] - VAE_CROP + 1, (2,)).tolist()
            batch = batch[:, :, y:y + VAE_CROP, x:x + VAE_CROP]
            posterior = vae.encode(batch).latent_dist
            rec = vae.decode(posterior.sample()).sample
            loss = F.mse_loss(rec, batch) + 0.5 * F.l1_loss(rec, batch) + 1e-6 * posterior.kl().mean() / batch[0].numel()
            opt.zero_grad()
            loss.backward()
            opt.step()
            for g in opt.param_groups:
                g["lr"] = 1e-3 * 0.5 * (1 + math.cos(math.pi * step / steps))
            progress("vae cycle %d" % cycle, step, steps, loss.item(), start, rows)
        fold_latent_scale(vae, images)
        torch.save(vae.state_dict(), saved)
        log_curve(work, "vae-cycle%d" % cycle, rows)
    torch.save(vae.state_dict(), os.path.join(work, "vae.pt"))


def fold_latent_scale(vae, images):
    """Measures the latents' standard deviation (as SD's 0.18215 was measured) and folds a factor c into
    quant_conv / post_quant_conv so that std x 0.18215 = 1, the factor every SD1.x tool applies."""
    vae.eval()
    with torch.no_grad():
        means = torch.cat([vae.encode(images[i:i + 256]).latent_dist.mean for i in range(0, 4096, 256)])
        sigma = means.std().item()
        c = 1 / (LATENT_SCALE * sigma)
        vae.quant_conv.weight[:4] *= c
        vae.quant_conv.bias[:4] *= c
        vae.quant_conv.bias[4:] += 2 * math.log(c)
        vae.post_quant_conv.weight *= 1 / c
        check = torch.cat([vae.encode(images[i:i + 256]).latent_dist.mean for i in range(0, 1024, 256)])
        rec = vae.decode(vae.encode(images[:256]).latent_dist.mean).sample
    psnr = 10 * math.log10(4 / F.mse_loss(rec, images[:256]).item())
    print("vae: latent std %.4f (folded x%.4f; now %.4f, times 0.18215 = %.3f); reconstruction %.1f dB"
          % (sigma, c, check.std().item(), check.std().item() * LATENT_SCALE, psnr), flush=True)


def stage_decoder(work):
    """Fine-tunes the decoder alone on whole images, the encoder (and so the teacher's latent space)
    frozen, as Stability fine-tuned SD's decoder (sd-vae-ft-mse); it runs beside the teacher. Cosine cycles
    with warm restarts (DECODER_CYCLES, peak learning rates); a finished cycle is kept in --work."""
    images, _ = images_tensor(work)
    latents = load(work, "latents.pt")
    vae = make_vae()
    vae.load_state_dict(load(work, "vae.pt"))
    params = list(vae.post_quant_conv.parameters()) + list(vae.decoder.parameters())
    rows, start = [], time.time()
    for cycle, (steps, peak) in enumerate(DECODER_CYCLES, 1):
        saved = os.path.join(work, "decoder-cycle%d.pt" % cycle)
        if os.path.exists(saved):
            vae.load_state_dict(load(work, saved))
            continue
        torch.manual_seed(4 + cycle)
        opt = torch.optim.AdamW(params, lr=peak, weight_decay=0.0)
        for step in range(1, steps + 1):
            idx = torch.randint(0, len(images), (BATCH["decoder"],))
            z = latents["mean"][idx] + latents["std"][idx] * torch.randn_like(latents["mean"][idx])
            rec = vae.decode(z).sample
            loss = F.mse_loss(rec, images[idx]) + 0.5 * F.l1_loss(rec, images[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            for g in opt.param_groups:
                g["lr"] = peak * 0.5 * (1 + math.cos(math.pi * step / steps))
            progress("decoder cycle %d" % cycle, step, steps, loss.item(), start, rows)
        with torch.no_grad():
            rec = vae.decode(latents["mean"][:256]).sample
        print("decoder cycle %d: reconstruction %.1f dB"
              % (cycle, 10 * math.log10(4 / F.mse_loss(rec, images[:256]).item())), flush=True)
        torch.save(vae.state_dict(), saved)
        log_curve(work, "decoder-cycle%d" % cycle, rows)
    torch.save(vae.state_dict(), os.path.join(work, "vae-decoder.pt"))


def stage_latents(work):
    images, _ = images_tensor(work)
    vae = make_vae()
    vae.load_state_dict(load(work, "vae.pt"))
    vae.eval()
    with torch.no_grad():
        dists = [vae.encode(images[i:i + 256]).latent_dist for i in range(0, len(images), 256)]
    torch.save({"mean": torch.cat([d.mean for d in dists]), "std": torch.cat([d.std for d in dists])},
               os.path.join(work, "latents.pt"))


class Captions:
    """Token ids of the distinct training captions, each image's caption index, and the empty caption's
    ids (classifier-free guidance)."""

    def __init__(self, work, captions):
        tokenizer = make_tokenizer(work)
        self.unique = sorted(set(captions))
        self.table = tokenize(tokenizer, self.unique)
        index = {c: i for i, c in enumerate(self.unique)}
        self.of_image = torch.tensor([index[c] for c in captions])
        self.empty = tokenize(tokenizer, [""])[0]

    def contexts(self, text):
        """The frozen text encoder's hidden states for every distinct caption, and for the empty one: computed
        once, as the encoder does not train after the `text` stage."""
        with torch.no_grad():
            table = torch.cat([text(self.table[i:i + 256]).last_hidden_state for i in range(0, len(self.table), 256)])
            return table, text(self.empty[None]).last_hidden_state[0]


# The attribute heads of the text encoder's pre-training, one per caption attribute.
ATTRIBUTE_VALUES = dict(shape=shapes.SHAPES, colour=shapes.COLOURS, background=shapes.COLOURS, size=shapes.SIZES,
                        position=shapes.POSITIONS)


def stage_text(work):
    """Pre-trains the CLIP text encoder, which SD1.5 took pre-trained from CLIP and kept frozen: here the
    stand-in for CLIP's training is to predict each attribute of a caption from the encoder's end-of-text
    state and from the mean of all 77 states (which cross-attention reads); linear heads, dropped after."""
    torch.manual_seed(6)
    _, captions = images_tensor(work)
    tokens = Captions(work, captions)
    attrs = {shapes.caption(a): a for a in shapes.train_combinations()}
    labels = torch.tensor([[ATTRIBUTE_VALUES[k].index(attrs[c][k]) for k in ATTRIBUTE_VALUES] for c in tokens.unique])
    text = make_text_encoder()
    width = text.config.hidden_size
    heads = torch.nn.ModuleList(torch.nn.Linear(width, len(v)) for _ in range(2) for v in ATTRIBUTE_VALUES.values())
    params = list(text.parameters()) + list(heads.parameters())
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01)
    rows, start, total = [], time.time(), STEPS["text"]
    for step in range(1, total + 1):
        idx = torch.randint(0, len(tokens.unique), (BATCH["text"],))
        out = text(tokens.table[idx])
        features = (out.pooler_output, out.last_hidden_state.mean(1))
        loss = sum(F.cross_entropy(heads[j * len(ATTRIBUTE_VALUES) + i](f), labels[idx, i])
                   for j, f in enumerate(features) for i in range(len(ATTRIBUTE_VALUES)))
        opt.zero_grad()
        loss.backward()
        opt.step()
        progress("text", step, total, loss.item(), start, rows)
    with torch.no_grad():
        pooled = torch.cat([text(tokens.table[i:i + 256]).pooler_output for i in range(0, len(tokens.table), 256)])
        right = [(heads[i](pooled).argmax(1) == labels[:, i]).float().mean().item() for i in range(len(ATTRIBUTE_VALUES))]
    print("text: attribute accuracy from the end-of-text state", dict(zip(ATTRIBUTE_VALUES, right)), flush=True)
    torch.save(text.state_dict(), os.path.join(work, "text.pt"))
    log_curve(work, "text", rows)


def sample_latents(latents, idx):
    mean, std = latents["mean"][idx], latents["std"][idx]
    return (mean + std * torch.randn_like(mean)) * LATENT_SCALE


def ema_update(target, source, decay):
    with torch.no_grad():
        for t, s in zip(target.parameters(), source.parameters()):
            t.mul_(decay).add_(s.detach(), alpha=1 - decay)


def load_text_encoder(work):
    text = make_text_encoder()
    text.load_state_dict(load(work, "text.pt"))
    return text.eval().requires_grad_(False)


def stage_teacher(work):
    """The UNet on the frozen text encoder, as SD1.5 trained it. Every SAVE_EVERY steps the EMA weights are
    saved (teacher.pt), so a run cut short still leaves a teacher."""
    torch.manual_seed(2)
    _, captions = images_tensor(work)
    latents = load(work, "latents.pt")
    tokens = Captions(work, captions)
    text = load_text_encoder(work)
    contexts, empty_context = tokens.contexts(text)
    schedule = NoiseSchedule()
    unet = make_unet()
    ema_unet = copy.deepcopy(unet)
    opt = torch.optim.AdamW(unet.parameters(), lr=1e-3, weight_decay=0.01)
    rows, start, total = [], time.time(), STEPS["teacher"]
    for step in range(1, total + 1):
        lr = 1e-3 * min(1, step / 200) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / total)))
        for g in opt.param_groups:
            g["lr"] = lr
        idx = torch.randint(0, len(captions), (BATCH["teacher"],))
        z = sample_latents(latents, idx)
        context = contexts[tokens.of_image[idx]].clone()
        context[torch.rand(len(idx)) < 0.1] = empty_context
        t = torch.randint(0, 1000, (len(idx),))
        noise = torch.randn_like(z)
        pred = unet(schedule.add_noise(z, noise, t), t, encoder_hidden_states=context).sample
        loss = F.mse_loss(pred, noise)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        opt.step()
        ema_update(ema_unet, unet, min(0.999, (1 + step) / (10 + step)))
        progress("teacher", step, total, loss.item(), start, rows)
        if step % SAVE_EVERY == 0 or step == total:
            torch.save({"unet": ema_unet.state_dict(), "text": text.state_dict(), "step": step},
                       os.path.join(work, "teacher.pt"))
            log_curve(work, "teacher", rows)


def lcm_scalings(t, sigma_data=0.5, timestep_scaling=10.0):
    """The boundary-condition parameterisation c_skip(t), c_out(t) (c_skip(0) = 1, c_out(0) = 0)."""
    scaled = timestep_scaling * t.float()
    c_skip = sigma_data ** 2 / (scaled ** 2 + sigma_data ** 2)
    c_out = scaled / (scaled ** 2 + sigma_data ** 2) ** 0.5
    return c_skip.view(-1, 1, 1, 1), c_out.view(-1, 1, 1, 1)


def consistency_distillation(work, stage, student, target_of, trainable):
    """The LCD loop shared by the LCM checkpoint and the LCM-LoRA. `target_of` returns the network that
    predicts the target (an EMA copy, or the student itself)."""
    _, captions = images_tensor(work)
    latents = load(work, "latents.pt")
    tokens = Captions(work, captions)
    teacher_state = load(work, "teacher.pt")
    teacher, text = make_unet(), make_text_encoder()
    teacher.load_state_dict(teacher_state["unet"])
    text.load_state_dict(teacher_state["text"])
    for m in (teacher, text):
        m.eval().requires_grad_(False)
    schedule = NoiseSchedule()
    acp = schedule.alphas_cumprod
    ddim_timesteps = torch.arange(1, 1000 // K + 1) * K - 1  # 19, 39, ..., 999
    contexts, empty_context = tokens.contexts(text)
    empty_context = empty_context[None]
    opt = torch.optim.AdamW(trainable, lr=DISTILL_LR[stage], weight_decay=0.0)
    rows, start, total = [], time.time(), STEPS[stage]
    uses_w = student.config.time_cond_proj_dim is not None

    def x0_from_eps(x, eps, t):
        a = acp[t].view(-1, 1, 1, 1)
        return (x - (1 - a).sqrt() * eps) / a.sqrt()

    for step in range(1, total + 1):
        if DISTILL_DECAY[stage]:
            for g in opt.param_groups:
                g["lr"] = DISTILL_LR[stage] * min(1, step / 50) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / total)))
        idx = torch.randint(0, len(captions), (BATCH[stage],))
        z = sample_latents(latents, idx)
        context = contexts[tokens.of_image[idx]]
        n = torch.randint(0, len(ddim_timesteps), (len(idx),))
        start_t = ddim_timesteps[n]
        prev_t = torch.clamp(start_t - K, min=0)
        noise = torch.randn_like(z)
        x = schedule.add_noise(z, noise, start_t)
        w_min, w_max = W_RANGE[stage]
        w = w_min + (w_max - w_min) * torch.rand(len(idx))
        w_emb = guidance_scale_embedding(w) if uses_w else None
        c_skip_start, c_out_start = lcm_scalings(start_t)
        c_skip, c_out = lcm_scalings(prev_t)
        eps = student(x, start_t, encoder_hidden_states=context, timestep_cond=w_emb).sample
        prediction = c_skip_start * x + c_out_start * x0_from_eps(x, eps, start_t)
        with torch.no_grad():
            both = teacher(torch.cat([x, x]), torch.cat([start_t, start_t]),
                           encoder_hidden_states=torch.cat([context, empty_context.expand(len(idx), -1, -1)])).sample
            cond, uncond = both.chunk(2)
            wv = w.view(-1, 1, 1, 1)
            teacher_eps = cond + wv * (cond - uncond)
            teacher_x0 = x0_from_eps(x, teacher_eps, start_t)
            a_prev = acp[prev_t].view(-1, 1, 1, 1)
            x_prev = a_prev.sqrt() * teacher_x0 + (1 - a_prev).sqrt() * teacher_eps  # the DDIM step t_{n+k} -> t_n
            target_eps = target_of()(x_prev, prev_t, encoder_hidden_states=context, timestep_cond=w_emb).sample
            target = c_skip * x_prev + c_out * x0_from_eps(x_prev, target_eps, prev_t)
        loss = (torch.sqrt((prediction - target) ** 2 + 0.001 ** 2) - 0.001).mean()  # Huber, c = 0.001
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        opt.step()
        yield step
        progress(stage, step, total, loss.item(), start, rows)
    log_curve(work, stage, rows)


def stage_lcm(work):
    torch.manual_seed(3)
    teacher = load(work, "teacher.pt")
    student = make_unet(guidance_embedding=True)
    missing = student.load_state_dict(teacher["unet"], strict=False).missing_keys
    assert missing == ["time_embedding.cond_proj.weight"], missing
    with torch.no_grad():
        student.time_embedding.cond_proj.weight.mul_(0.01)  # starts as the teacher
    target = copy.deepcopy(student).requires_grad_(False)
    exported = copy.deepcopy(student).requires_grad_(False)
    for step in consistency_distillation(work, "lcm", student, lambda: target, list(student.parameters())):
        ema_update(target, student, 0.95)
        ema_update(exported, student, EXPORT_EMA)
        if step % 100 == 0:
            torch.save(exported.state_dict(), os.path.join(work, "lcm-step%d.pt" % step))  # to evaluate a run cut short
    torch.save(exported.state_dict(), os.path.join(work, "lcm.pt"))


class LoRA(torch.nn.Module):
    """A rank-r update down -> up beside a frozen Linear or Conv2d (kohya's lora_down / lora_up)."""

    def __init__(self, base, rank=8, alpha=8.0):
        super().__init__()
        self.base, self.scale = base, alpha / rank
        if isinstance(base, torch.nn.Conv2d):
            self.down = torch.nn.Conv2d(base.in_channels, rank, base.kernel_size, base.stride, base.padding, bias=False)
            self.up = torch.nn.Conv2d(rank, base.out_channels, 1, bias=False)
        else:
            self.down = torch.nn.Linear(base.in_features, rank, bias=False)
            self.up = torch.nn.Linear(rank, base.out_features, bias=False)
        torch.nn.init.kaiming_uniform_(self.down.weight, a=math.sqrt(5))
        torch.nn.init.zeros_(self.up.weight)

    def forward(self, x, *args, **kwargs):
        return self.base(x) + self.scale * self.up(self.down(x))


# The modules LCM-LoRA (latent-consistency/lcm-lora-sdv1-5) adapts.
LORA_TARGETS = ("to_q", "to_k", "to_v", "to_out.0", "proj_in", "proj_out", "ff.net.0.proj", "ff.net.2", "conv1",
                "conv2", "conv_shortcut", "downsamplers.0.conv", "upsamplers.0.conv", "time_emb_proj")


def add_lora(unet):
    adapters = {}
    for name, module in list(unet.named_modules()):
        if name.endswith(LORA_TARGETS) and isinstance(module, (torch.nn.Linear, torch.nn.Conv2d)):
            parent_name, child = name.rsplit(".", 1)
            adapter = LoRA(module)
            setattr(unet.get_submodule(parent_name), child, adapter)
            adapters[name] = adapter
    return adapters


def stage_lora(work):
    torch.manual_seed(4)
    student = make_unet()
    student.load_state_dict(load(work, "teacher.pt")["unet"])
    student.requires_grad_(False)
    adapters = add_lora(student)
    trainable = [p for a in adapters.values() for p in (a.down.weight, a.up.weight)]
    for p in trainable:
        p.requires_grad_(True)
    # Exported: a slow EMA of the adapters' matrices, as the LCM checkpoint's (EXPORT_EMA).
    exported = {name: (a.down.weight.detach().clone(), a.up.weight.detach().clone()) for name, a in adapters.items()}
    for step in consistency_distillation(work, "lora", student, lambda: student, trainable):
        with torch.no_grad():
            for name, a in adapters.items():
                for kept, live in zip(exported[name], (a.down.weight, a.up.weight)):
                    kept.mul_(EXPORT_EMA).add_(live, alpha=1 - EXPORT_EMA)
        if step % 100 == 0:
            torch.save(exported, os.path.join(work, "lora-step%d.pt" % step))  # to evaluate a run cut short
    torch.save(exported, os.path.join(work, "lora.pt"))


def from_checkpoint(path):
    """The three models back from a shipped single-file checkpoint: the inverse of checkpoint_tensors, by
    mapping every diffusers/transformers key forward and reading its LDM key (float16 values, widened)."""
    tensors = load_file(path)
    vae, text = make_vae(), make_text_encoder()
    unet = make_unet(guidance_embedding="model.diffusion_model.time_embed.cond_proj.weight" in tensors)
    for model, key_of in ((unet, lambda k: "model.diffusion_model." + diffusers_to_ldm(k, levels=UNET_LEVELS, attention=UNET_ATTENTION)),
                          (vae, lambda k: "first_stage_model." + vae_to_ldm(k, levels=4)),
                          (text, lambda k: "cond_stage_model.transformer.text_model." + k.removeprefix("text_model."))):
        state = model.state_dict()
        for key, value in state.items():
            if "position_ids" in key:
                continue
            state[key] = tensors[key_of(key)].float().reshape(value.shape)  # LDM's 1x1 attention convs: reshaped back
        model.load_state_dict(state)
    return vae, text, unet


def stage_import(work):
    """The stage files that the distillations read (teacher.pt, vae.pt, vae-decoder.pt, and lcm.pt / lora.pt
    for export), taken from the shipped float16 files instead of a rerun of the earlier stages: distillation
    starts from the published teacher, as LCM distillation starts from a released SD1.5 checkpoint. Together
    with `data` and `latents` it is all `lcm` and `lora` need."""
    checkpoints, loras = os.path.join(ROOT, "models", "checkpoints"), os.path.join(ROOT, "models", "loras")
    vae, text, teacher = from_checkpoint(os.path.join(checkpoints, "latentflow-shapes-sd15.safetensors"))
    torch.save({"unet": teacher.state_dict(), "text": text.state_dict(), "step": "imported"}, os.path.join(work, "teacher.pt"))
    torch.save(text.state_dict(), os.path.join(work, "text.pt"))
    # The decoder fine-tuning kept the encoder and quant_conv frozen, so the shipped VAE encodes as vae.pt did.
    torch.save(vae.state_dict(), os.path.join(work, "vae.pt"))
    torch.save(vae.state_dict(), os.path.join(work, "vae-decoder.pt"))
    _, _, lcm = from_checkpoint(os.path.join(checkpoints, "latentflow-shapes-lcm-sd15.safetensors"))
    torch.save(lcm.state_dict(), os.path.join(work, "lcm.pt"))
    shipped = load_file(os.path.join(loras, "latentflow-shapes-lcm-lora.safetensors"))
    names = add_lora(make_unet()).keys()
    torch.save({name: (shipped["lora_unet_" + name.replace(".", "_") + ".lora_down.weight"].float(),
                       shipped["lora_unet_" + name.replace(".", "_") + ".lora_up.weight"].float()) for name in names},
               os.path.join(work, "lora.pt"))
    print("import: teacher, VAE, LCM and LCM-LoRA from the shipped files into", work)


def stage_export(work):
    vae, text, teacher = make_vae(), make_text_encoder(), make_unet()
    vae.load_state_dict(load(work, "vae-decoder.pt"))
    state = load(work, "teacher.pt")
    teacher.load_state_dict(state["unet"])
    text.load_state_dict(state["text"])
    lcm = make_unet(guidance_embedding=True)
    lcm.load_state_dict(load(work, "lcm.pt"))
    out = dict(checkpoints=os.path.join(ROOT, "models", "checkpoints"), loras=os.path.join(ROOT, "models", "loras"))
    meta = {"format": "pt", "latentflow": "trained by scripts/train_shapes_model.py on shapes_dataset.py"}
    save_file(checkpoint_tensors(vae, text, teacher), os.path.join(out["checkpoints"], "latentflow-shapes-sd15.safetensors"), meta)
    save_file(checkpoint_tensors(vae, text, lcm), os.path.join(out["checkpoints"], "latentflow-shapes-lcm-sd15.safetensors"), meta)
    lora = {}
    for name, (down, up) in load(work, "lora.pt").items():
        base = "lora_unet_" + name.replace(".", "_")  # kohya sd-scripts' names: the diffusers module path
        lora[base + ".lora_down.weight"] = down.to(torch.float16).contiguous()
        lora[base + ".lora_up.weight"] = up.to(torch.float16).contiguous()
        lora[base + ".alpha"] = torch.tensor(float(down.shape[0]), dtype=torch.float16)
    save_file(lora, os.path.join(out["loras"], "latentflow-shapes-lcm-lora.safetensors"), meta)
    curves = os.path.join(ROOT, "docs", "shapes-model")
    os.makedirs(curves, exist_ok=True)
    for stage in ("vae-cycle1", "vae-cycle2", "text", "teacher", "decoder-cycle1", "decoder-cycle2", "lcm", "lora"):
        src = os.path.join(work, stage + "_curve.csv")
        if os.path.exists(src):
            with open(src) as f, open(os.path.join(curves, stage + "-loss.csv"), "w") as g:
                g.write(f.read())
    print("exported to", out, "and", curves)


STAGES = dict(data=stage_data, vae=stage_vae, latents=stage_latents, text=stage_text, teacher=stage_teacher, decoder=stage_decoder,
              lcm=stage_lcm, lora=stage_lora, export=stage_export)
STAGES["import"] = stage_import  # a keyword, so not in dict()

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("stages", nargs="+", choices=list(STAGES) + ["all"])
    parser.add_argument("--work", default="/tmp/shapes-train")
    parser.add_argument("--steps", nargs="*", default=[], help="override, e.g. teacher=100 (quick trials)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    for item in args.steps:
        k, v = item.split("=")
        STEPS[k] = int(v)
    torch.set_num_threads(args.threads)
    os.makedirs(args.work, exist_ok=True)
    for name in (list(STAGES) if "all" in args.stages else args.stages):
        t0 = time.time()
        STAGES[name](args.work)
        print("stage %s done in %.0f s" % (name, time.time() - t0), flush=True)
