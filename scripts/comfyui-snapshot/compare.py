#!/usr/bin/env python3
"""Compare a snapshot of ComfyUI's /object_info with another /object_info JSON.

    python3 compare.py comfyui-object-info-sd.json OTHER.json [options]

OTHER is any object keyed by class name in ComfyUI's /object_info entry shape, e.g.
`curl -s localhost:8188/object_info > other.json` against ComfyUI or against Latentflow's server.

For every class of the snapshot it prints `ok`, `MISSING`, or `DIFFERS` with one line per
difference in: input names, required/optional, input order (widget order), types, combo options,
default / min / max / step / round, the widget-shaping flags (multiline, control_after_generate,
image_upload, forceInput), the order of widget inputs (all inputs with --strict), outputs (types, names,
is_list) and output_node.
Tooltips, display names, descriptions, categories and python_module are ignored (categories and
python_module are compared with --strict).

Normalisations (both sides):
  * V3 combos ["COMBO", {"options": [...]}] are read as [[...], {...}];
  * ["<folder:X>"] in the snapshot matches any list of file names on the other side (or the same
    placeholder); names in the entry's "folder_combo_literals" must also be offered there;
  * a combo with no "default" defaults to its first option (as ComfyUI's frontend does), so
    a missing default only counts when the effective values differ; flags that are false or absent
    are the same; numbers compare with a relative tolerance of 1e-9 (1 == 1.0);
  * hidden inputs are ignored.

Exit status: 0 when nothing is missing or different, 1 otherwise (2 on bad usage).
Options: --json FILE (machine-readable result), --skip-experimental (leave out entries with
"experimental": true), --only A,B,... (those classes), --strict, --quiet (only problems),
--extra (also list classes the other side has that the snapshot lacks).
"""
import argparse
import json
import sys

FLAG_KEYS = ("multiline", "control_after_generate", "image_upload", "forceInput")
NUM_KEYS = ("min", "max", "step", "round")


def same_number(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    try:
        a, b = float(a), float(b)
    except (TypeError, ValueError):
        return False
    return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def same_value(a, b):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and not isinstance(b, bool):
        return same_number(a, b)
    return a == b


def split_spec(spec):
    """-> (kind, type_or_options, opts) with kind 'combo' or 'type'."""
    if not isinstance(spec, list) or not spec:
        return ("type", repr(spec), {})
    t = spec[0]
    opts = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
    if t == "COMBO":
        return ("combo", list(opts.get("options") or []), opts)
    if isinstance(t, list):
        return ("combo", list(t), opts)
    return ("type", t, opts)


def is_placeholder(o):
    return isinstance(o, str) and o.startswith("<folder:") and o.endswith(">")


WIDGET_TYPES = ("INT", "FLOAT", "STRING", "BOOLEAN")


def is_widget(spec):
    """An input the UI shows as a widget (so it takes a widgets_values slot)."""
    if spec is None:
        return False
    kind, t, opts = split_spec(spec)
    if opts.get("forceInput"):
        return False
    return kind == "combo" or t in WIDGET_TYPES


def combo_diffs(snap_opts, other_opts, literals):
    snap_ph = [o for o in snap_opts if is_placeholder(o)]
    if snap_ph:
        out = []
        other_ph = [o for o in other_opts if is_placeholder(o)]
        if other_ph and set(other_ph) != set(snap_ph):
            out.append(f"combo lists {other_ph}, snapshot lists {snap_ph}")
        need = [o for o in snap_opts if not is_placeholder(o)] + list(literals or [])
        miss = [o for o in need if o not in other_opts]
        if miss:
            out.append(f"combo lacks the fixed names {miss} (snapshot: {snap_ph} + {need})")
        return out
    if other_opts == snap_opts:
        return []
    if any(is_placeholder(o) for o in other_opts):
        return [f"combo is a folder list {other_opts} here, snapshot has fixed options {snap_opts}"]
    miss = [o for o in snap_opts if o not in other_opts]
    extra = [o for o in other_opts if o not in snap_opts]
    if not miss and not extra:
        return ["combo options are in another order"]
    parts = []
    if miss:
        parts.append(f"missing options {miss}")
    if extra:
        parts.append(f"extra options {extra}")
    return ["combo " + "; ".join(parts)]


def input_diffs(snap_spec, other_spec, literals):
    out = []
    sk, st, so = split_spec(snap_spec)
    ok, ot, oo = split_spec(other_spec)
    if sk != ok:
        desc = lambda k, t: f"combo of {len(t)} options" if k == "combo" else f"type {t}"
        out.append(f"is {desc(ok, ot)}, snapshot has {desc(sk, st)}")
        return out
    if sk == "type" and st != ot:
        out.append(f"type is {ot}, snapshot's is {st}")
    if sk == "combo":
        out += combo_diffs(st, ot, literals)
    for k in NUM_KEYS:
        a, b = so.get(k), oo.get(k)
        if a is None and b is None:
            continue
        if a is None or b is None or not same_number(a, b):
            out.append(f"{k} is {b if b is not None else 'unset'}, snapshot's is {a if a is not None else 'unset'}")
    a, b = so.get("default"), oo.get("default")
    if sk == "combo" and not any(is_placeholder(o) for o in st):
        a = a if a is not None else (st[0] if st else None)
        b = b if b is not None else (ot[0] if ot else None)
    elif sk == "combo":
        a = b = None  # default of a file list depends on the files
    if not (a is None and b is None) and (a is None or b is None or not same_value(a, b)):
        out.append(f"default is {json.dumps(b)}, snapshot's is {json.dumps(a)}")
    for k in FLAG_KEYS:
        if bool(so.get(k, False)) != bool(oo.get(k, False)):
            out.append(f"{k} is {bool(oo.get(k, False))}, snapshot's is {bool(so.get(k, False))}")
    return out


def entry_diffs(name, snap, other, strict=False):
    out = []
    literals = snap.get("folder_combo_literals", {})
    s_in, o_in = snap.get("input", {}), other.get("input", {})
    s_sec = {n: sec for sec in ("required", "optional") for n in (s_in.get(sec) or {})}
    o_sec = {n: sec for sec in ("required", "optional") for n in (o_in.get(sec) or {})}
    for n, sec in s_sec.items():
        if n not in o_sec:
            out.append(f"input '{n}' ({sec}) is missing")
            continue
        if o_sec[n] != sec:
            out.append(f"input '{n}' is {o_sec[n]}, snapshot has it {sec}")
        out += [f"input '{n}': {d}" for d in input_diffs(s_in[sec][n], o_in[o_sec[n]][n], literals.get(n))]
    for n, sec in o_sec.items():
        if n not in s_sec:
            out.append(f"input '{n}' ({sec}) is not in the snapshot")
    # widget order is what UI-format widgets_values follow (sockets may move freely; --strict: all inputs)
    s_ord, o_ord = snap.get("input_order", {}), other.get("input_order", {})
    for sec in ("required", "optional"):
        a = [n for n in (s_ord.get(sec) or list((s_in.get(sec) or {}).keys()))]
        b = [n for n in (o_ord.get(sec) or list((o_in.get(sec) or {}).keys()))]
        keep = lambda n: strict or is_widget((s_in.get(sec) or {}).get(n))
        common_a = [n for n in a if n in b and keep(n)]
        common_b = [n for n in b if n in a and keep(n)]
        if common_a != common_b:
            what = "input" if strict else "widget"
            out.append(f"{sec} {what} order is {common_b}, snapshot's is {common_a}")
    for key in ("output", "output_name", "output_is_list"):
        a, b = list(snap.get(key, [])), list(other.get(key, []))
        if key == "output_is_list":
            a, b = [bool(x) for x in a], [bool(x) for x in b]
        if a != b:
            out.append(f"{key} is {b}, snapshot's is {a}")
    if bool(snap.get("output_node", False)) != bool(other.get("output_node", False)):
        out.append(f"output_node is {bool(other.get('output_node', False))}, snapshot's is {bool(snap.get('output_node', False))}")
    if strict:
        for key in ("category", "python_module"):
            if snap.get(key) != other.get(key):
                out.append(f"{key} is {other.get(key)!r}, snapshot's is {snap.get(key)!r}")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("snapshot")
    ap.add_argument("other")
    ap.add_argument("--json", dest="json_out")
    ap.add_argument("--skip-experimental", action="store_true")
    ap.add_argument("--only")
    ap.add_argument("--strict", action="store_true")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--extra", action="store_true")
    args = ap.parse_args(argv)
    snap = json.load(open(args.snapshot))
    other = json.load(open(args.other))
    if not isinstance(snap, dict) or not isinstance(other, dict):
        print("both files must be JSON objects keyed by class name", file=sys.stderr)
        return 2
    names = sorted(snap)
    if args.only:
        wanted = set(args.only.split(","))
        names = [n for n in names if n in wanted]
    if args.skip_experimental:
        names = [n for n in names if not snap[n].get("experimental")]
    result = {"ok": [], "missing": [], "differs": {}}
    for n in names:
        if n not in other:
            result["missing"].append(n)
            print(f"MISSING  {n}")
            continue
        d = entry_diffs(n, snap[n], other[n], args.strict)
        if d:
            result["differs"][n] = d
            print(f"DIFFERS  {n}")
            for line in d:
                print(f"         - {line}")
        else:
            result["ok"].append(n)
            if not args.quiet:
                print(f"ok       {n}")
    extra = sorted(set(other) - set(snap))
    if args.extra and extra:
        print(f"\n{len(extra)} classes on the other side are not in the snapshot:")
        for n in extra:
            print(f"  extra  {n}")
    result["extra"] = extra
    print(f"\n{len(names)} snapshot classes: {len(result['ok'])} ok, {len(result['differs'])} differ, "
          f"{len(result['missing'])} missing ({len(extra)} extra classes on the other side)")
    if args.json_out:
        json.dump(result, open(args.json_out, "w"), indent=1)
    return 0 if not result["missing"] and not result["differs"] else 1


if __name__ == "__main__":
    sys.exit(main())
