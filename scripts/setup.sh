#!/usr/bin/env bash
# Makes a fresh checkout runnable: npm dependencies, then a WebGPU adapter (Mesa lavapipe when
# the machine has none). Safe to run repeatedly; does nothing when everything is present.
#   bash scripts/setup.sh [--browser]    # --browser: also Chromium, for npm run test:browser
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules/webgpu ] || [ ! -x node_modules/.bin/tsx ]; then
  echo "setup: installing npm dependencies (npm ci)"
  # onnxruntime-node (a bench-only peer) would otherwise try to download CUDA binaries.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
fi
if ! node scripts/probe-adapter.mjs >/dev/null 2>&1; then
  echo "setup: no WebGPU adapter found; installing Mesa lavapipe (scripts/install-webgpu-driver.sh)"
  bash scripts/install-webgpu-driver.sh
  node scripts/probe-adapter.mjs
fi
if [ "${1:-}" = "--browser" ]; then
  bash scripts/install-chromium.sh
fi
