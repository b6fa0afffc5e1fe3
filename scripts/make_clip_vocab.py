"""Writes the CLIP ViT-L/14 BPE merges that Latentflow's tokenizer ships as a resource.

Run by hand (never by CI):  pip install --no-deps open-clip-torch && python3 scripts/make_clip_vocab.py
The merges come from the open-clip-torch package (OpenAI's bpe_simple_vocab_16e6.txt.gz); the
first 48894 of them are exactly those in ComfyUI's comfy/sd1_tokenizer/merges.txt and Hugging
Face's openai/clip-vit-large-patch14 tokenizer. The vocabulary itself is derived from the merges
in Swift, as OpenAI's original tokenizer does (bytes, bytes + </w>, merges, two special tokens).
"""
import glob
import gzip
import os
import site

path = next(p for d in site.getsitepackages() for p in glob.glob(os.path.join(d, "open_clip", "bpe_simple_vocab_16e6.txt.gz")))
lines = gzip.open(path).read().decode("utf-8").split("\n")
merges = lines[1:49152 - 256 - 2 + 1]
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sources", "LatentflowModels", "CLIP", "Resources", "merges.txt")
with open(out, "w", encoding="utf-8") as f:
    f.write("#version: 0.2\n" + "\n".join(merges) + "\n")
print(f"wrote {len(merges)} merges to {os.path.normpath(out)}")
