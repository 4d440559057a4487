#!/usr/bin/env bash
# Idempotent set-up shared by `make deploy` and `make test`: Python venv + package, Pulumi CLI, tracker image,
# LXD lab.
set -euo pipefail
cd "$(dirname "$0")/.."
python="$(command -v python3.11 || command -v python3)"
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [[ ! -x .venv/bin/python ]]; then
  echo "==> creating .venv with $python"
  "$python" -m venv .venv
fi
if [[ ! -f "$stamp" ]]; then
  echo "==> installing torrust-deploy and its dependencies into .venv"
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet -e ".[dev,bench]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi
echo "==> Pulumi CLI (found, or built from Go modules once into ~/.cache/torrust-deploy/pulumi)"
.venv/bin/torrust-deploy toolchain ensure
echo "==> Torrust Tracker image (built once with cargo into ~/.cache/torrust-deploy/tracker)"
.venv/bin/torrust-deploy artifact ensure
echo "==> local LXD lab (packages, daemons, bridge, base image)"
.venv/bin/torrust-deploy lab up
