#!/usr/bin/env bash
# Builds the real Kubernetes control plane used by the tests from the pinned Go modules:
#   kube-apiserver, kubectl (k8s.io/kubernetes), etcd (go.etcd.io/etcd/server/v3), helm (./helm).
# Output: $TOLLGATE_KUBE_CACHE (default ~/.cache/tollgate/kube-<k8s version>)/bin/.
# Skips the build when bin/.stamp matches a hash of the pinned inputs (go.mod, go.sum, the
# main.go files, this script, the Go version). Prints the bin directory on stdout, logs on stderr.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { printf 'kube-build: %s\n' "$*" >&2; }
die() { printf 'kube-build: ERROR: %s\n' "$*" >&2; exit 1; }

# A login shell may not have the Go toolchain on PATH even where it is installed.
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then PATH="/usr/local/go/bin:$PATH"; fi
command -v go >/dev/null 2>&1 || die "go is not on PATH; the control plane is built from Go modules (need Go >= 1.24)"

kube_version="$(awk '$1 == "k8s.io/kubernetes" { print $2; exit }' "$here/go.mod")"
etcd_version="$(awk '$1 == "go.etcd.io/etcd/server/v3" { print $2; exit }' "$here/go.mod")"
helm_version="$(awk '$1 == "helm.sh/helm/v3" { print $2; exit }' "$here/helm/go.mod")"
[[ -n "$kube_version" && -n "$etcd_version" && -n "$helm_version" ]] || die "cannot read pinned versions from go.mod files"

cache="${TOLLGATE_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tollgate/kube-${kube_version#v}}"
bin="$cache/bin"
binaries=(kube-apiserver etcd kubectl helm)

stamp="$(
  cd "$here" &&
    { cat go.mod go.sum helm/go.mod helm/go.sum cmd/*/main.go build.sh; go version; } | sha256sum | cut -d' ' -f1
)"

up_to_date() {
  [[ -f "$bin/.stamp" && "$(cat "$bin/.stamp")" == "$stamp" ]] || return 1
  local b
  for b in "${binaries[@]}"; do [[ -x "$bin/$b" ]] || return 1; done
}

if up_to_date; then
  log "up to date: $bin (kubernetes $kube_version, etcd $etcd_version, helm $helm_version)"
  echo "$bin"
  exit 0
fi

mkdir -p "$cache"
# One build at a time per cache directory (parallel test runs, kube:up and CI may race).
exec 9>"$cache/.build.lock"
flock 9
if up_to_date; then
  log "built by a concurrent run: $bin"
  echo "$bin"
  exit 0
fi

log "building kubernetes $kube_version, etcd $etcd_version, helm $helm_version into $bin"
log "a cold build takes about 15 minutes and 2 GB of memory on 2 cores; later runs reuse the cache"
start=$SECONDS
out="$cache/bin.tmp.$$"
rm -rf "$out"
mkdir -p "$out"
trap 'rm -rf "$out"' EXIT

export CGO_ENABLED=0 GOFLAGS="-trimpath -mod=readonly -buildvcs=false"
nice_cmd=(nice -n "${TOLLGATE_BUILD_NICE:-10}")

# The version stamps Kubernetes' own build (hack/lib/version.sh) sets; without them the server
# reports v0.0.0-master and clients cannot tell what they talk to.
minor="${kube_version#v1.}"
minor="${minor%%.*}"
build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
kube_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  kube_ldflags+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  kube_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
done

(
  cd "$here"
  "${nice_cmd[@]}" go build -ldflags="$kube_ldflags" -o "$out/" ./cmd/kube-apiserver ./cmd/kubectl ./cmd/etcd
) || die "go build of kube-apiserver/kubectl/etcd failed (see the compiler output above)"
log "kube-apiserver, kubectl, etcd built after $((SECONDS - start))s"

# Helm's own Makefile stamps its version and the Kubernetes version it assumes for
# `helm template` / `helm lint` capabilities.
helm_ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  helm_ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$minor"
done
(
  cd "$here/helm"
  "${nice_cmd[@]}" go build -ldflags="$helm_ldflags" -o "$out/helm" helm.sh/helm/v3/cmd/helm
) || die "go build of helm failed (see the compiler output above)"

for b in "${binaries[@]}"; do
  [[ -x "$out/$b" ]] || die "build finished without $b"
done
"$out/kube-apiserver" --version >&2
"$out/etcd" --version >&2
"$out/helm" version --short >&2

echo "$stamp" >"$out/.stamp"
rm -rf "$bin"
mv "$out" "$bin"
trap - EXIT
log "done in $((SECONDS - start))s: $bin"
echo "$bin"
