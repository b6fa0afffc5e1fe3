#!/usr/bin/env bash
# Installs the C libraries Latentflow links (Debian/Ubuntu; run as root or with sudo), and the
# headless browser the web UI test drives (chromium, chromium-driver).
set -euo pipefail
packages=(libopenblas-dev libpng-dev libjpeg-dev libwebp-dev libsqlite3-dev pkg-config chromium chromium-driver)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi
