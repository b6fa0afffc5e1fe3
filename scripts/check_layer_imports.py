#!/usr/bin/env python3
"""Checks that every Swift file imports only what its target declares in Package.swift.

SwiftPM lets a target import any module that happens to be built before it (a dependency's
dependency), so a layer edge can creep back without the build noticing. This compares each
file's `import` lines with its target's declared dependencies (`swift package dump-package`).
CI runs it; it prints each offending import and exits 1 if there is one.
"""
import json
import os
import re
import subprocess
import sys

# Modules of the toolchain and the platform, which no target declares.
SYSTEM = {"Foundation", "FoundationEssentials", "Glibc", "Musl", "Dispatch", "XCTest", "Testing",
          "Synchronization", "_Builtin_intrinsics", "Darwin", "os", "FoundationNetworking"}


def main() -> int:
    package = json.loads(subprocess.run(["swift", "package", "dump-package"], check=True,
                                        capture_output=True, text=True).stdout)
    problems = []
    for target in package["targets"]:
        if target["type"] == "system":
            continue
        allowed = set(SYSTEM) | {target["name"]}
        for dependency in target["dependencies"]:
            kind, value = next(iter(dependency.items()))
            allowed.add(value[0])
        default = "Tests" if target["type"] == "test" else "Sources"
        folder = target.get("path") or os.path.join(default, target["name"])
        for root, _, files in os.walk(folder):
            for name in files:
                if not name.endswith(".swift"):
                    continue
                path = os.path.join(root, name)
                for number, line in enumerate(open(path, encoding="utf-8"), 1):
                    match = re.match(r"\s*(?:@_exported\s+|@testable\s+)?import\s+(?:\w+\s+)?([\w.]+)", line)
                    if match and match.group(1).split(".")[0] not in allowed:
                        problems.append(f"{path}:{number}: {target['name']} imports {match.group(1)}, "
                                        f"which Package.swift does not list for it")
    print("\n".join(problems) if problems else "layer imports: every import is a declared dependency")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
