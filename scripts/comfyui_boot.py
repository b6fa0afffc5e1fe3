"""Makes a ComfyUI checkout importable from the fixture scripts (run by hand, never by CI).

`boot(path)` puts the checkout on sys.path, stands in for torchvision when it is missing or does
not match the installed torch (it is imported only by model families the scripts never touch),
and parses ComfyUI's arguments as `--cpu`. Import ComfyUI's modules after calling it.
"""
import importlib.machinery
import sys
import types

TORCHVISION_MODULES = ["torchvision", "torchvision.transforms", "torchvision.transforms.functional"]


def boot(comfyui_path):
    sys.path.insert(0, comfyui_path)
    try:
        import torchvision  # noqa: F401
    except Exception:
        for name in TORCHVISION_MODULES:
            module = types.ModuleType(name)
            module.__spec__ = importlib.machinery.ModuleSpec(name, None)
            sys.modules[name] = module
        sys.modules["torchvision"].transforms = sys.modules["torchvision.transforms"]
        sys.modules["torchvision.transforms"].functional = sys.modules["torchvision.transforms.functional"]
    sys.argv = [sys.argv[0], "--cpu"]
    import comfy.options
    comfy.options.enable_args_parsing()
