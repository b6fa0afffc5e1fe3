#!/usr/bin/env bash
# Rewrites Tests/LatentflowEndToEndTests/Fixtures/coverage-gaps.txt from the current registry:
# the ComfyUI v0.3.64 SD1.5/SD2 nodes still missing or declared differently (ComfyUICoverageTests).
# Usage: scripts/update-coverage-gaps.sh [path/to/latentflow binary, default .build/debug/latentflow]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-.build/debug/latentflow}"
snapshot=Tests/LatentflowEndToEndTests/Fixtures/comfyui-object-info-sd.json
gaps=Tests/LatentflowEndToEndTests/Fixtures/coverage-gaps.txt
{
    echo "# ComfyUI v0.3.64 SD1.5/SD2 nodes not yet implemented as ComfyUI declares them (ComfyUICoverageTests);"
    echo "# regenerate with scripts/update-coverage-gaps.sh"
    # grep finds nothing once every node is implemented: not an error.
    "$bin" nodes coverage --snapshot "$snapshot" | { grep -E '^(missing|differs) ' || true; } | sed -E 's/^(missing|differs) +//' | sort
} >"$gaps.tmp"
mv "$gaps.tmp" "$gaps"
"$bin" nodes coverage --snapshot "$snapshot" | tail -1
