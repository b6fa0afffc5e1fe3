#!/usr/bin/env python3
"""Writes Tests/LatentflowNodesTests/Fixtures/string_nodes.json: ComfyUI v0.3.64's own string nodes
(`comfy_extras/nodes_string.py`, run from a checkout) on cases that exercise Python's string and
`re` semantics: code-point indices, negative slices, Unicode case and whitespace, groups,
replacement templates.

Run by hand, never by CI:
  /work/venv-torch/bin/python scripts/make_string_node_fixtures.py /path/to/ComfyUI [extra sys.path ...]
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from comfyui_boot import boot  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "LatentflowNodesTests", "Fixtures", "string_nodes.json")

TEXT = "  A cat's 3rd toy: ÉCLAIR über\tñandú  "
CASES = [
    ("StringConcatenate", {"string_a": "a red", "string_b": "circle", "delimiter": ", "}),
    ("StringConcatenate", {"string_a": "x", "string_b": "y", "delimiter": ""}),
    ("StringSubstring", {"string": "héllo wörld", "start": 1, "end": 7}),
    ("StringSubstring", {"string": "héllo wörld", "start": -5, "end": 100}),
    ("StringSubstring", {"string": "héllo", "start": 4, "end": 2}),
    ("StringLength", {"string": "naïve café ☕"}),
    ("CaseConverter", {"string": TEXT, "mode": "UPPERCASE"}),
    ("CaseConverter", {"string": TEXT, "mode": "lowercase"}),
    ("CaseConverter", {"string": "éCLAIR and MORE", "mode": "Capitalize"}),
    ("CaseConverter", {"string": "they're bill's 3rd-rate friends", "mode": "Title Case"}),
    ("StringTrim", {"string": TEXT, "mode": "Both"}),
    ("StringTrim", {"string": TEXT, "mode": "Left"}),
    ("StringTrim", {"string": TEXT, "mode": "Right"}),
    ("StringTrim", {"string": " \t\n ", "mode": "Both"}),
    ("StringReplace", {"string": "a cat, a hat", "find": "at", "replace": "og"}),
    ("StringReplace", {"string": "abc", "find": "", "replace": "-"}),
    ("StringContains", {"string": "A Red Circle", "substring": "red", "case_sensitive": True}),
    ("StringContains", {"string": "A Red Circle", "substring": "red", "case_sensitive": False}),
    ("StringCompare", {"string_a": "Blue sky", "string_b": "blue", "mode": "Starts With", "case_sensitive": False}),
    ("StringCompare", {"string_a": "Blue sky", "string_b": "SKY", "mode": "Ends With", "case_sensitive": True}),
    ("StringCompare", {"string_a": "same", "string_b": "same", "mode": "Equal", "case_sensitive": True}),
    ("RegexMatch", {"string": "Line one\nline TWO", "regex_pattern": "^line two$", "case_insensitive": True,
                    "multiline": True, "dotall": False}),
    ("RegexMatch", {"string": "Line one\nline TWO", "regex_pattern": "^line two$", "case_insensitive": True,
                    "multiline": False, "dotall": False}),
    ("RegexMatch", {"string": "a\nb", "regex_pattern": "a.b", "case_insensitive": False, "multiline": False,
                    "dotall": True}),
    ("RegexMatch", {"string": "abc", "regex_pattern": "(unclosed", "case_insensitive": True, "multiline": False,
                    "dotall": False}),
    ("RegexExtract", {"string": "w=512, h=768, w=64", "regex_pattern": r"w=(\d+)", "mode": "First Match",
                      "case_insensitive": True, "multiline": False, "dotall": False, "group_index": 1}),
    ("RegexExtract", {"string": "w=512, h=768, w=64", "regex_pattern": r"(\w)=(\d+)", "mode": "All Matches",
                      "case_insensitive": True, "multiline": False, "dotall": False, "group_index": 1}),
    ("RegexExtract", {"string": "w=512, h=768, w=64", "regex_pattern": r"\d+", "mode": "All Matches",
                      "case_insensitive": True, "multiline": False, "dotall": False, "group_index": 1}),
    ("RegexExtract", {"string": "w=512, h=768", "regex_pattern": r"(?P<key>\w)=(?P<value>\d+)", "mode": "First Group",
                      "case_insensitive": True, "multiline": False, "dotall": False, "group_index": 2}),
    ("RegexExtract", {"string": "w=512, h=768", "regex_pattern": r"(\w)=(\d+)", "mode": "All Groups",
                      "case_insensitive": True, "multiline": False, "dotall": False, "group_index": 2}),
    ("RegexExtract", {"string": "w=512", "regex_pattern": r"(\w)=(\d+)", "mode": "First Group",
                      "case_insensitive": True, "multiline": False, "dotall": False, "group_index": 3}),
    ("RegexReplace", {"string": "a red circle, a RED square", "regex_pattern": "red", "replace": "blue",
                      "case_insensitive": True, "multiline": False, "dotall": False, "count": 0}),
    ("RegexReplace", {"string": "a red circle, a RED square", "regex_pattern": "red", "replace": "blue",
                      "case_insensitive": False, "multiline": False, "dotall": False, "count": 0}),
    ("RegexReplace", {"string": "512x768 and 64x32", "regex_pattern": r"(\d+)x(\d+)", "replace": r"\2 by \g<1> ($)",
                      "case_insensitive": True, "multiline": False, "dotall": False, "count": 1}),
    ("RegexReplace", {"string": "cat hat", "regex_pattern": r"(?P<first>\w)at", "replace": r"\g<first>og",
                      "case_insensitive": True, "multiline": False, "dotall": False, "count": 0}),
]


def main():
    sys.path += sys.argv[2:]
    boot(sys.argv[1])
    import comfy_extras.nodes_string as strings

    results = []
    for node, inputs in CASES:
        output = getattr(strings, node).execute(**inputs)
        results.append({"node": node, "inputs": inputs, "output": output.result[0]})
    with open(OUT, "w") as f:
        json.dump(results, f, indent=1, ensure_ascii=False)
    print("wrote", OUT, len(results), "cases")


if __name__ == "__main__":
    main()
