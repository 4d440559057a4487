#!/usr/bin/env bash
# Build the Pulumi CLI from Go modules (no download from any site but the Go module proxy) into a cache
# keyed by version. Usage: build-pulumi-cli.sh VERSION CACHE_ROOT
# Result: CACHE_ROOT/VERSION/bin/{pulumi,pulumi-resource-pulumi-python}. Idempotent: a finished build is reused.
set -euo pipefail
version="${1:?usage: build-pulumi-cli.sh VERSION CACHE_ROOT}"
cache_root="${2:?usage: build-pulumi-cli.sh VERSION CACHE_ROOT}"
dest="$cache_root/$version"
bin="$dest/bin"
if [[ -x "$bin/pulumi" && -x "$bin/pulumi-resource-pulumi-python" && -f "$dest/.complete" ]]; then
  echo "pulumi $version already built in $bin"
  exit 0
fi
command -v go >/dev/null || { echo "error: 'go' is not on PATH; the Pulumi CLI is built from Go modules" >&2; exit 1; }
work="$(mktemp -d "${TMPDIR:-/tmp}/pulumi-build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
export GOPATH="${GOPATH:-$cache_root/gopath}"
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
cat > main.go <<'GO'
package main
GO
rm -f main.go
mkdir -p "$bin.partial"
go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
  -o "$bin.partial/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
install -m 0755 "$sdk_dir/python/dist/pulumi-resource-pulumi-python" "$bin.partial/pulumi-resource-pulumi-python"
rm -rf "$bin"
mv "$bin.partial" "$bin"
# the marker holds the version the built CLI reports: finding the CLI later need not run it
"$bin/pulumi" version > "$dest/.complete.partial"
mv "$dest/.complete.partial" "$dest/.complete"
cat "$dest/.complete"
