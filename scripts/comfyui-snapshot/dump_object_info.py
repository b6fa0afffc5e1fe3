#!/usr/bin/env python3
"""Dump ComfyUI's /object_info without starting its server.

usage: PYTHON dump_object_info.py COMFYUI_SOURCE_TREE OUT.json

Loads nodes.py and every comfy_extras module the way ComfyUI's main.py does (init_builtin_extra_nodes;
no custom nodes, no API nodes), on CPU, then builds each entry with a copy of server.py's node_info().
Folder combos are replaced while loading: folder_paths.get_filename_list(X) returns ["<folder:X>"]
(X after map_legacy), and the input directory is a scratch folder holding __INPUT__.png and
__INPUT__.latent (make_snapshot.py turns those into "<folder:input>").

Extra import paths (packages ComfyUI needs that the interpreter lacks, a torchaudio stub, ...) come
from COMFY_EXTRA_PATHS (colon-separated, appended to sys.path). COMFY_LIST_API_NODES=1 also loads
comfy_api_nodes and writes their {class: module} to OUT.api.json (they stay out of OUT).
"""
import sys, os, json, asyncio, logging, tempfile
ROOT, OUT = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
for p in filter(None, os.environ.get("COMFY_EXTRA_PATHS", "").split(":")):
    sys.path.append(p)
sys.argv = ["main.py", "--cpu", "--disable-all-custom-nodes"]
os.chdir(ROOT); sys.path.insert(0, ROOT)
import comfy.options
comfy.options.enable_args_parsing()
import utils.extra_config, utils.install_util  # noqa: F401  (as main.py does, before comfy/ shadows utils)
logging.basicConfig(level=logging.WARNING)
import folder_paths
_inp = tempfile.mkdtemp(prefix="comfy_input_")
for _f in ["__INPUT__.png", "__INPUT__.latent"]:
    open(os.path.join(_inp, _f), "w").close()
folder_paths.set_input_directory(_inp)
folder_paths.get_filename_list = lambda name: ["<folder:%s>" % folder_paths.map_legacy(name)]
import nodes
from comfy_api.internal import _ComfyNodeInternal
failed = asyncio.run(nodes.init_builtin_extra_nodes())
print("failed extras:", failed, file=sys.stderr)
if os.environ.get("COMFY_LIST_API_NODES"):   # also load comfy_api_nodes; write {class: module} to OUT.api.json
    _before = set(nodes.NODE_CLASS_MAPPINGS)
    print("failed api:", asyncio.run(nodes.init_builtin_api_nodes()), file=sys.stderr)
    _api = {k: getattr(v, "RELATIVE_PYTHON_MODULE", "?") for k, v in nodes.NODE_CLASS_MAPPINGS.items() if k not in _before}
    json.dump(_api, open(OUT + ".api.json", "w"), indent=1)
    for k in _api:
        del nodes.NODE_CLASS_MAPPINGS[k]

def node_info(node_class):   # server.py PromptServer.add_routes.node_info at v0.3.64
    obj_class = nodes.NODE_CLASS_MAPPINGS[node_class]
    if issubclass(obj_class, _ComfyNodeInternal):
        return obj_class.GET_NODE_INFO_V1()
    info = {}
    info['input'] = obj_class.INPUT_TYPES()
    info['input_order'] = {key: list(value.keys()) for (key, value) in obj_class.INPUT_TYPES().items()}
    info['output'] = obj_class.RETURN_TYPES
    info['output_is_list'] = obj_class.OUTPUT_IS_LIST if hasattr(obj_class, 'OUTPUT_IS_LIST') else [False] * len(obj_class.RETURN_TYPES)
    info['output_name'] = obj_class.RETURN_NAMES if hasattr(obj_class, 'RETURN_NAMES') else info['output']
    info['name'] = node_class
    info['display_name'] = nodes.NODE_DISPLAY_NAME_MAPPINGS[node_class] if node_class in nodes.NODE_DISPLAY_NAME_MAPPINGS.keys() else node_class
    info['description'] = obj_class.DESCRIPTION if hasattr(obj_class, 'DESCRIPTION') else ''
    info['python_module'] = getattr(obj_class, "RELATIVE_PYTHON_MODULE", "nodes")
    info['category'] = 'sd'
    info['output_node'] = bool(hasattr(obj_class, 'OUTPUT_NODE') and obj_class.OUTPUT_NODE == True)
    if hasattr(obj_class, 'CATEGORY'):
        info['category'] = obj_class.CATEGORY
    if hasattr(obj_class, 'OUTPUT_TOOLTIPS'):
        info['output_tooltips'] = obj_class.OUTPUT_TOOLTIPS
    if getattr(obj_class, "DEPRECATED", False):
        info['deprecated'] = True
    if getattr(obj_class, "EXPERIMENTAL", False):
        info['experimental'] = True
    if hasattr(obj_class, 'API_NODE'):
        info['api_node'] = obj_class.API_NODE
    return info

out, errs = {}, {}
with folder_paths.cache_helper:
    for x in nodes.NODE_CLASS_MAPPINGS:
        try:
            out[x] = node_info(x)
        except Exception as e:
            errs[x] = repr(e)
print("errors:", errs, file=sys.stderr)
json.dump(out, open(OUT, "w"), indent=1, default=str)
print("nodes:", len(out), file=sys.stderr)
