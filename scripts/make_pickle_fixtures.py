#!/usr/bin/env python3
"""Writes the PyTorch checkpoint fixtures of Tests/LatentflowIOTests (TorchPickleTests).

Run by hand, never by CI: it needs real PyTorch (any CPU build), numpy and safetensors:

    python3 -m venv /work/venv-torch
    /work/venv-torch/bin/pip install torch numpy safetensors
    /work/venv-torch/bin/python scripts/make_pickle_fixtures.py

Every checkpoint is written by torch.save itself, in both its formats, and the expected values
are what torch.load(weights_only=True) reads back from those very files, stored as contiguous
float32 in pickle_expected.safetensors under "<fixture>/<key>". The Swift reader is compared
against that, so the test checks the reader against PyTorch rather than against itself.

The one file not written by torch.save is the hostile one: a plain-Python pickle whose
__reduce__ returns (os.system, ('echo pwned',)), packed into a torch-style zip (STORED
entries archive/data.pkl, archive/byteorder, archive/version). torch.load(weights_only=True)
refuses it, and so must the Swift reader; the script checks the former.
"""
import collections
import io
import os
import pickle
import zipfile

import torch
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "LatentflowIOTests", "Fixtures")


def tensors():
    """Small tensors in every dtype the reader widens, plus views that share one storage."""
    g = torch.Generator().manual_seed(20)
    base = (torch.arange(12, dtype=torch.float32) / 7 - 0.5).reshape(3, 4)
    return {
        "f32": base,
        "transposed": base.t(),             # same storage, strides (1, 4)
        "slice": base[1:, 1:3],             # same storage, offset 5, strides (4, 1)
        "every_other": base[:, ::2],        # strides (4, 2)
        "f16": torch.randn(2, 3, generator=g).half(),
        "bf16": torch.randn(5, generator=g).bfloat16(),
        "f64": torch.tensor([[1.5, -2.25], [1e-3, 3e5]], dtype=torch.float64),
        "i64": torch.tensor([1, -2, 3, 1 << 40], dtype=torch.int64),
        "i32": torch.tensor([7, -8], dtype=torch.int32),
        "u8": torch.tensor([0, 255, 9], dtype=torch.uint8),
        "flag": torch.tensor([True, False]),
        "scalar": torch.tensor(2.5),
        "expanded": torch.tensor([1.0, 2.0, 3.0]).expand(2, 3),  # stride (0, 1)
        "empty": torch.zeros(0, 3),
        "param": torch.nn.Parameter(torch.tensor([[0.25, -0.75]])),
    }


def hypernetwork():
    torch.manual_seed(3)
    layers = {size: [torch.nn.Linear(size, size).state_dict(), torch.nn.Linear(size, size).state_dict()]
              for size in (4, 6)}
    layers.update({"name": "tiny-hypernet", "layer_structure": [1, 2, 1], "activation_func": "linear",
                   "is_layer_norm": False, "step": 5, "sd_checkpoint": "abc123", "sd_checkpoint_name": "model"})
    return layers


def embedding():
    vectors = (torch.arange(16, dtype=torch.float32) / 16).reshape(2, 8)
    return {"string_to_token": {"*": 265}, "string_to_param": {"*": vectors}, "name": "tiny-embedding",
            "step": 3, "sd_checkpoint": "abc123", "sd_checkpoint_name": "model"}


def nested_checkpoint():
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.LayerNorm(2))
    return {"state_dict": model.state_dict(), "global_step": 10, "epoch": 1}


class Pwned:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def hostile_zip(path):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"weight": Pwned()}, protocol=2))
        archive.writestr("archive/byteorder", "little")
        archive.writestr("archive/version", "3\n")
    try:
        torch.load(path, weights_only=True)
    except Exception as error:  # torch refuses it: the Swift reader must as well
        print("torch refuses", os.path.basename(path), "-", str(error).splitlines()[0][:100])
    else:
        raise SystemExit("torch.load(weights_only=True) accepted the hostile pickle")


def flat_tensors(value, prefix, out):
    """Every tensor reachable in `value`, under a path of its keys and indices."""
    if isinstance(value, torch.Tensor):
        out[prefix] = value.detach().contiguous().to(torch.float32).clone()
    elif isinstance(value, dict):
        for key, item in value.items():
            flat_tensors(item, f"{prefix}/{key}", out)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            flat_tensors(item, f"{prefix}/{index}", out)


def main():
    os.makedirs(OUT, exist_ok=True)
    fixtures = {
        "torch_zip.pt": (tensors(), True),
        "torch_legacy.pt": (tensors(), False),
        "torch_nested.ckpt": (nested_checkpoint(), True),
        "torch_nested_legacy.ckpt": (nested_checkpoint(), False),
        "torch_embedding.pt": (embedding(), True),
        "torch_hypernetwork.pt": (hypernetwork(), True),
    }
    expected = {}
    for name, (value, zip_format) in fixtures.items():
        path = os.path.join(OUT, name)
        torch.save(value, path, _use_new_zipfile_serialization=zip_format)
        loaded = torch.load(path, weights_only=True)
        flat_tensors(loaded, name, expected)
        print(f"{name}: {os.path.getsize(path)} bytes")
    # Storage sharing survives torch.save: the views must still share one storage when loaded.
    loaded = torch.load(os.path.join(OUT, "torch_zip.pt"), weights_only=True)
    assert loaded["transposed"].untyped_storage().data_ptr() == loaded["f32"].untyped_storage().data_ptr()
    save_file(expected, os.path.join(OUT, "pickle_expected.safetensors"))
    hostile_zip(os.path.join(OUT, "torch_hostile_os_system.pt"))


if __name__ == "__main__":
    main()
