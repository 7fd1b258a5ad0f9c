#!/usr/bin/env bash
# Installs or builds what the test suites need, idempotently: redis-server (Debian package) and the
# Kubernetes binaries (built from Go modules into ~/.cache/tollgate). Fails loudly with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-test-deps: installing redis-server from Debian"
    (apt-get install -y -qq redis-server >/dev/null 2>&1) || (apt-get update -qq && apt-get install -y -qq redis-server >/dev/null)
  else
    echo "ensure-test-deps: redis-server is missing; install it (Debian: sudo apt-get install redis-server)" >&2
    exit 1
  fi
fi
if [ -x test/kube/ensure-binaries.sh ]; then
  bash test/kube/ensure-binaries.sh
fi
# Redis 8 (vector sets) for the semantic cache tests: a Debian trixie root run with chroot (ADR 0077).
bash scripts/ensure-redis8.sh >/dev/null
