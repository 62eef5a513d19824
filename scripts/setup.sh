#!/usr/bin/env bash
# Makes a fresh checkout runnable: npm dependencies, then a WebGPU adapter (Mesa lavapipe when
# the machine has none). Safe to run repeatedly; does nothing when everything is present.
#   bash scripts/setup.sh [--browser] [--peers]
#     --browser: also Chromium, for npm run test:browser
#     --peers:   also the benchmark's peer libraries (TF.js, onnxruntime, gpu.js: ~800 MB), the
#                package bench/peers, into bench/peers/node_modules (npm run bench:peers:install;
#                bench/run.ts runs this when a selected case needs them)
set -euo pipefail
cd "$(dirname "$0")/.."
browser=0
peers=0
for arg in "$@"; do
  case "$arg" in
    --browser) browser=1 ;;
    --peers) peers=1 ;;
    *) echo "setup: unknown option $arg (expected --browser, --peers)" >&2; exit 2 ;;
  esac
done
if [ ! -d node_modules/webgpu ] || [ ! -x node_modules/.bin/tsx ]; then
  echo "setup: installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi
# The webgpu package ships Dawn for five platforms (132 MB); this checkout needs its own (~21 MB).
# npm ci brings the others back.
dawn="$(node -p "process.platform === 'darwin' ? 'darwin-universal' : process.platform + '-' + process.arch")"
if [ -f "node_modules/webgpu/dist/$dawn/dawn.node" ]; then
  for d in node_modules/webgpu/dist/*/; do
    [ "$(basename "$d")" = "$dawn" ] || rm -rf "$d"
  done
fi
if ! node scripts/probe-adapter.mjs >/dev/null 2>&1; then
  echo "setup: no WebGPU adapter found; installing Mesa lavapipe (scripts/install-webgpu-driver.sh)"
  bash scripts/install-webgpu-driver.sh
  node scripts/probe-adapter.mjs
fi
if [ "$browser" = 1 ]; then
  bash scripts/install-chromium.sh
fi
# Reinstalled when missing or older than the lock file (npm writes .package-lock.json last).
if [ "$peers" = 1 ] && { [ ! -f bench/peers/node_modules/.package-lock.json ] || [ bench/peers/package-lock.json -nt bench/peers/node_modules/.package-lock.json ]; }; then
  echo "setup: installing the benchmark's peer libraries (npm ci --prefix bench/peers)"
  # onnxruntime-node would otherwise try to download CUDA binaries.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --prefix bench/peers --no-audit --no-fund
fi
