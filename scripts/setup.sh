#!/usr/bin/env bash
# Idempotent set-up shared by `make deploy` and `make test`: Python venv + package, then side by side the
# Pulumi CLI (Go build), the LXD lab (packages, daemons, bridge, base image) and the tracker image (cargo
# build); ends with how long each phase took.
#
# Why side by side is safe: the three share no file (each cache has its own lock) and the only shared
# resource is dpkg, which the lab (its packages) and the tracker build (its -dev packages) may both need:
# APT_CONFIG below makes each apt-get wait for the other's lock instead of failing. Why it pays on 2 cores:
# the Go and cargo builds each leave a core idle for long stretches (downloads, single-threaded links), and
# the lab is mostly apt, debootstrap and unpacking (network and disk).
set -euo pipefail
cd "$(dirname "$0")/.."
python="$(command -v python3.11 || command -v python3)"
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
times="$(mktemp -d "${TMPDIR:-/tmp}/torrust-setup.XXXXXX")"
jobs_started=()
cleanup() {  # a job still running when the script stops (Ctrl-C, an error): stop its process group
  for pid in "${jobs_started[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  rm -rf "$times"
}
trap cleanup EXIT
began=$EPOCHREALTIME

# timed NAME COMMAND...: run COMMAND with its output prefixed by [NAME]; record its wall time and exit code.
timed() {
  local name="$1" start=$EPOCHREALTIME rc=0
  shift
  { "$@" 2>&1 | sed -u "s/^/[$name] /"; } || rc=$?
  echo "$name $start $EPOCHREALTIME $rc" >"$times/$name"
  return "$rc"
}

seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

venv() {
  if [[ ! -x .venv/bin/python ]]; then
    echo "creating .venv with $python"
    "$python" -m venv .venv
  fi
  if [[ ! -f "$stamp" ]]; then
    echo "installing torrust-deploy and its dependencies into .venv"
    .venv/bin/pip install --quiet --upgrade pip
    .venv/bin/pip install --quiet -e ".[dev,bench]"
    rm -f .venv/.installed-*
    touch "$stamp"
  fi
  # The editable install leaves the project's own modules uncompiled, and an interpreter that may not write
  # bytecode (PYTHONDONTWRITEBYTECODE, a read-only checkout) then compiles them at every start: 2x the time
  # of `show`. compileall writes what is missing or stale and skips the rest.
  .venv/bin/python -m compileall -q -j 0 orchestrator pulumi_lxd
  echo "ready"
}

echo "==> Python venv"
timed venv venv

echo "==> side by side: Pulumi CLI (found, or built once from Go modules into ~/.cache/torrust-deploy/pulumi),"
echo "    local LXD lab (packages, daemons, bridge, storage pool, base image), Torrust Tracker image (built"
echo "    once with cargo into ~/.cache/torrust-deploy/tracker)"
printf 'DPkg::Lock::Timeout "900";\n' >"$times/apt.conf"
export APT_CONFIG="$times/apt.conf"
set -m # each job in its own process group (see cleanup)
timed pulumi .venv/bin/torrust-deploy toolchain ensure &
jobs_started+=($!)
timed lab .venv/bin/torrust-deploy lab up &
jobs_started+=($!)
timed tracker .venv/bin/torrust-deploy artifact ensure &
jobs_started+=($!)
failed=()
for pid in "${jobs_started[@]}"; do
  wait "$pid" || true
done
jobs_started=()
set +m
unset APT_CONFIG

echo "==> set-up times (wall clock)"
for name in venv pulumi lab tracker; do
  if [[ ! -f "$times/$name" ]]; then
    failed+=("$name")
    printf '  %-8s did not finish\n' "$name"
    continue
  fi
  read -r _ start end rc <"$times/$name"
  label=""
  [[ "$name" != venv ]] && label=" (side by side)"
  [[ "$rc" != 0 ]] && { label="$label FAILED (exit $rc)"; failed+=("$name"); }
  printf '  %-8s %7s s%s\n' "$name" "$(seconds "$start" "$end")" "$label"
done
printf '  %-8s %7s s\n' total "$(seconds "$began" "$EPOCHREALTIME")"
if ((${#failed[@]})); then
  echo "set-up failed: ${failed[*]} (its lines above are prefixed with its name)" >&2
  exit 1
fi
