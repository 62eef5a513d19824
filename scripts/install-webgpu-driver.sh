#!/usr/bin/env bash
# Installs Mesa's lavapipe (software Vulkan) so Dawn (npm `webgpu`) finds a WebGPU adapter
# on a machine without a GPU. Debian bookworm's own mesa 22.x lacks a Vulkan feature Dawn
# requires, so there the driver comes from bookworm-backports.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
. /etc/os-release
if [ "${ID:-}" = "debian" ] && [ "${VERSION_CODENAME:-}" = "bookworm" ]; then
  if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "deb http://deb.debian.org/debian bookworm-backports main" | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1
elif [ "${ID:-}" = "debian" ] || [ "${ID:-}" = "ubuntu" ] || [ "${ID_LIKE:-}" = "debian" ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mesa-vulkan-drivers libvulkan1
else
  echo "install-webgpu-driver.sh: unsupported system '${ID:-unknown}'. Install Mesa's Vulkan drivers (lavapipe) with your package manager." >&2
  exit 1
fi
ls /usr/share/vulkan/icd.d/ | grep -q lvp || { echo "install-webgpu-driver.sh: lavapipe ICD not found after install" >&2; exit 1; }
echo "lavapipe installed: $(ls /usr/share/vulkan/icd.d/ | grep lvp)"
