#!/usr/bin/env bash
# Installs Debian's Chromium for `npm run test:browser` (headless WebGPU through SwiftShader).
# Elsewhere install Chromium or Chrome yourself and set CHROMIUM=/path/to/it. Does nothing when
# Chromium is present.
set -euo pipefail
if command -v chromium >/dev/null || command -v chromium-browser >/dev/null || [ -n "${CHROMIUM:-}" ]; then exit 0; fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
. /etc/os-release
if [ "${ID:-}" = "debian" ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
else
  echo "install-chromium.sh: unsupported system '${ID:-unknown}'. Install Chromium or Chrome and set CHROMIUM=/path/to/it." >&2
  exit 1
fi
echo "chromium installed: $(chromium --version)"
