#!/usr/bin/env bash
# Build the Pulumi CLI and the YAML language host from Go modules (no download from any site but the Go
# module proxy) into a cache keyed by version. Usage: build-pulumi-cli.sh VERSION CACHE_ROOT
# Result: CACHE_ROOT/VERSION/bin/{pulumi,pulumi-resource-pulumi-python,pulumi-language-yaml}.
# Idempotent: what is built is reused; a cache from before the YAML host gets only that built.
# The YAML host (github.com/pulumi/pulumi-yaml, as released) is what the plain `pulumi import` needs: it
# runs the project's language host, and the Python one cannot be had here (ADR 0012).
set -euo pipefail
version="${1:?usage: build-pulumi-cli.sh VERSION CACHE_ROOT}"
cache_root="${2:?usage: build-pulumi-cli.sh VERSION CACHE_ROOT}"
yaml_version="${PULUMI_YAML_VERSION:-v1.25.0}"
dest="$cache_root/$version"
bin="$dest/bin"
cli_built() { [[ -x "$bin/pulumi" && -x "$bin/pulumi-resource-pulumi-python" && -f "$dest/.complete" ]]; }
if cli_built && [[ -x "$bin/pulumi-language-yaml" ]]; then
  echo "pulumi $version already built in $bin"
  exit 0
fi
command -v go >/dev/null || { echo "error: 'go' is not on PATH; the Pulumi CLI is built from Go modules" >&2; exit 1; }
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
export GOPATH="${GOPATH:-$cache_root/gopath}"
if ! cli_built; then
  work="$(mktemp -d "${TMPDIR:-/tmp}/pulumi-build.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  cd "$work"
  go mod init torrust-deploy/pulumi-build >/dev/null 2>&1
  go get "github.com/pulumi/pulumi/pkg/v3@$version" "github.com/pulumi/pulumi/sdk/v3@$version"
  pkg_dir="$(go list -m -f '{{.Dir}}' "github.com/pulumi/pulumi/pkg/v3")"
  sdk_dir="$(go list -m -f '{{.Dir}}' "github.com/pulumi/pulumi/sdk/v3")"
  # Copy pkg's replace directives except the local ones (sdk => ../sdk): `go install` refuses them.
  awk '
    /^replace \(/ { inblock=1; next }
    inblock && /^\)/ { inblock=0; next }
    inblock { print "replace " $0; next }
    /^replace / { print }
  ' "$pkg_dir/go.mod" | grep -v '=> \.\.\?/' | grep -v '=> \./' >> go.mod || true
  go mod tidy >/dev/null 2>&1 || true
  mkdir -p "$bin.partial"
  go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
    -o "$bin.partial/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  install -m 0755 "$sdk_dir/python/dist/pulumi-resource-pulumi-python" "$bin.partial/pulumi-resource-pulumi-python"
  rm -rf "$bin"
  mv "$bin.partial" "$bin"
  # the marker holds the version the built CLI reports: finding the CLI later need not run it
  "$bin/pulumi" version > "$dest/.complete.partial"
  mv "$dest/.complete.partial" "$dest/.complete"
fi
if [[ ! -x "$bin/pulumi-language-yaml" ]]; then
  # pulumi-yaml's go.mod has no replace directives: `go install` builds it exactly as released
  GOBIN="$bin/.yaml.partial" go install -trimpath -ldflags "-s -w" \
    "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml@$yaml_version"
  mv "$bin/.yaml.partial/pulumi-language-yaml" "$bin/pulumi-language-yaml"
  rmdir "$bin/.yaml.partial"
fi
cat "$dest/.complete"
