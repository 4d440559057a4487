#!/usr/bin/env bash
# The README's test command: set-up, then lint, type check and every test (unit, integration, e2e).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/install-test-packages.sh
echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "==> mypy --strict"
.venv/bin/mypy
echo "==> pytest"
.venv/bin/pytest "$@"
