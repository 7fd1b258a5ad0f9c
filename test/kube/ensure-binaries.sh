#!/usr/bin/env bash
# Idempotent: builds the Kubernetes test binaries (kube-apiserver, etcd, kubectl, helm) from the pinned
# Go modules, or reuses the cache when the pins have not changed. Prints the bin directory. Exits
# non-zero with the reason when they cannot be built: the kube tests never skip for lack of them.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then PATH="/usr/local/go/bin:$PATH"; fi
if ! command -v go >/dev/null 2>&1; then
  echo "ensure-binaries: ERROR: 'go' is not on PATH. The kube tests need Go >= 1.24 and the Go module proxy to build kube-apiserver, etcd, kubectl and helm (see docs/kube-test-env.md)." >&2
  exit 1
fi
if ! command -v openssl >/dev/null 2>&1; then
  echo "ensure-binaries: ERROR: 'openssl' is not on PATH; the harness generates the control plane's certificates with it." >&2
  exit 1
fi
exec bash "$here/build.sh"
