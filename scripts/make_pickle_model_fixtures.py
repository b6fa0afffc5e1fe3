#!/usr/bin/env python3
"""Writes the pickled model fixtures of Tests/LatentflowEndToEndTests/Fixtures/pickles.

Run by hand, never by CI: it needs real PyTorch (any CPU build) and numpy:

    python3 -m venv /work/venv-torch
    /work/venv-torch/bin/pip install torch numpy
    /work/venv-torch/bin/python scripts/make_pickle_model_fixtures.py

Each pickle is the twin of a safetensors file the tests also have, written by torch.save with
the very same float16 values, so loading either must give bit-identical models:

- tiny-sd15.ckpt: models/checkpoints/latentflow-tiny-sd15.safetensors as a zip-format
  {"state_dict": ..., "global_step": 0}, as training scripts save LDM checkpoints.
- tiny-lora.pt: models/loras/latentflow-tiny-lora.safetensors, a bare dict, in the legacy
  (pre-1.6, non-zip) format, so both container formats are covered.
- embedding-a1111.pt (A1111's layout: string_to_param {"*": vectors}, plus its bookkeeping),
  embedding-plain.pt (a dict {"clip_l": vectors}) and embedding.safetensors ({"emb_params":
  vectors}), the same two vectors in each.
- hostile.ckpt: a state dict whose one value unpickles as os.system("echo pwned"), packed as a
  torch zip; torch.load(weights_only=True) refuses it, and so must Latentflow.

The safetensors inputs are read without the safetensors package (header JSON + raw bytes).
"""
import json
import os
import pickle
import struct
import zipfile

import numpy
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Tests", "LatentflowEndToEndTests", "Fixtures", "pickles")
DTYPES = {"F16": numpy.float16, "F32": numpy.float32}


def read_safetensors(path):
    """The file's tensors in header order (its own dtype), and its metadata."""
    with open(path, "rb") as file:
        length = struct.unpack("<Q", file.read(8))[0]
        header = json.loads(file.read(length))
        data = file.read()
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for key, entry in header.items():
        start, end = entry["data_offsets"]
        array = numpy.frombuffer(data[start:end], dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"])
        tensors[key] = torch.from_numpy(array.copy())
    return tensors, metadata


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for key, tensor in tensors.items():
        blob = tensor.contiguous().numpy().tobytes()
        dtype = {torch.float16: "F16", torch.float32: "F32"}[tensor.dtype]
        header[key] = {"dtype": dtype, "shape": list(tensor.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as file:
        file.write(struct.pack("<Q", len(encoded)) + encoded + b"".join(blobs))


def check_round_trip(path, expected, nested):
    loaded = torch.load(path, weights_only=True)
    state = loaded["state_dict"] if nested else loaded
    assert list(state) == list(expected), path
    for key, tensor in expected.items():
        assert state[key].dtype == tensor.dtype and torch.equal(state[key], tensor), (path, key)


class Pwned:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def hostile_zip(path):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"state_dict": {"weight": Pwned()}}, protocol=2))
        archive.writestr("archive/byteorder", "little")
        archive.writestr("archive/version", "3\n")
    try:
        torch.load(path, weights_only=True)
    except pickle.UnpicklingError:
        return
    raise SystemExit("torch.load(weights_only=True) accepted the hostile pickle")


def main():
    os.makedirs(OUT, exist_ok=True)
    checkpoint, _ = read_safetensors(os.path.join(ROOT, "models", "checkpoints", "latentflow-tiny-sd15.safetensors"))
    path = os.path.join(OUT, "tiny-sd15.ckpt")
    torch.save({"state_dict": checkpoint, "global_step": 0}, path)
    check_round_trip(path, checkpoint, nested=True)

    lora, _ = read_safetensors(os.path.join(ROOT, "models", "loras", "latentflow-tiny-lora.safetensors"))
    path = os.path.join(OUT, "tiny-lora.pt")
    torch.save(lora, path, _use_new_zipfile_serialization=False)
    check_round_trip(path, lora, nested=False)

    width = checkpoint["cond_stage_model.transformer.text_model.embeddings.token_embedding.weight"].shape[1]
    vectors = torch.randn(2, width, generator=torch.Generator().manual_seed(20))
    torch.save({"string_to_token": {"*": 265}, "string_to_param": {"*": vectors.clone().requires_grad_(True)},
                "name": "embedding-a1111", "step": 500, "sd_checkpoint": "0123456789",
                "sd_checkpoint_name": "latentflow-tiny-sd15"}, os.path.join(OUT, "embedding-a1111.pt"))
    torch.save({"clip_l": vectors.clone()}, os.path.join(OUT, "embedding-plain.pt"))
    write_safetensors(os.path.join(OUT, "embedding.safetensors"), {"emb_params": vectors})

    hostile_zip(os.path.join(OUT, "hostile.ckpt"))
    total = sum(os.path.getsize(os.path.join(OUT, name)) for name in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} fixtures, {total / 1e6:.2f} MB, to {OUT}")


if __name__ == "__main__":
    main()
