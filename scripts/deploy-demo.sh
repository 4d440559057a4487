#!/usr/bin/env bash
# The README's main job: a real deployment of the environment `local-demo` into a local LXD container,
# ending with a running Torrust Tracker (its announce URLs are printed by `show`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
td=.venv/bin/torrust-deploy
keys="$PWD/data/.keys"
mkdir -p "$keys" && chmod 700 "$keys"
[[ -f "$keys/local-demo" ]] || ssh-keygen -q -t ed25519 -N "" -C torrust-deploy-demo -f "$keys/local-demo"
if ! $td show local-demo >/dev/null 2>&1; then
  $td create environment -f examples/local-demo.json
fi
$td deploy local-demo
if $td --json show local-demo | grep -q '"tracker": null'; then
  # recorded by an older torrust-deploy, before the tracker existed: give it the example's tracker
  $td release local-demo -f examples/local-demo.json
  $td run local-demo
fi
$td test local-demo
$td show local-demo
