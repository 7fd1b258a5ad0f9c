#!/usr/bin/env bash
# Builds, once, a Debian trixie root holding redis-server 8 (vector sets: VADD/VSIM) for the semantic cache
# tests (test/support/redis8.ts, ADR 0077). The machine's Debian 12 has redis 7 and a glibc too old for
# trixie's binary, so the server runs as `chroot <root> redis-server` on loopback; no container is needed.
# Cached by content: the directory is named by a hash of the recipe below, so changing the recipe builds a
# new root and an unchanged one is reused. Prints the root's path as its last line. Fails loudly with the
# reason (never a silent skip): not root, no apt-get, mmdebstrap or the Debian mirror unreachable, no VADD.
set -euo pipefail
SUITE="${TOLLGATE_REDIS8_SUITE:-trixie}"
RECIPE="mmdebstrap --variant=minbase --include=redis-server ${SUITE} v1"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/tollgate/redis8"
HASH="$(printf '%s' "$RECIPE" | sha256sum | cut -c1-16)"
ROOT="$CACHE/$HASH"
fail() { echo "ensure-redis8: $*" >&2; exit 1; }

if [ -f "$ROOT/.tollgate-ok" ]; then echo "$ROOT"; exit 0; fi
[ "$(id -u)" = 0 ] || fail "building and running the trixie redis 8 root needs root (chroot); run as root or set REDIS8_ROOT to a built root"
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
if [ -f "$ROOT/.tollgate-ok" ]; then echo "$ROOT"; exit 0; fi
if ! command -v mmdebstrap >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 || fail "mmdebstrap is missing and there is no apt-get to install it"
  echo "ensure-redis8: installing mmdebstrap from Debian" >&2
  (apt-get install -y -qq mmdebstrap >/dev/null 2>&1) || (apt-get update -qq && apt-get install -y -qq mmdebstrap >/dev/null) ||
    fail "could not install mmdebstrap with apt-get"
fi
TMP="$CACHE/.build-$HASH-$$"
rm -rf "$TMP"
mkdir -p "$TMP"
echo "ensure-redis8: building the $SUITE root with redis-server into $ROOT (about 15 s)" >&2
if ! mmdebstrap --quiet --variant=minbase --include=redis-server "$SUITE" "$TMP/root" >&2; then
  rm -rf "$TMP"
  fail "mmdebstrap could not build the $SUITE root (is deb.debian.org reachable?)"
fi
VERSION="$(chroot "$TMP/root" redis-server --version)" || { rm -rf "$TMP"; fail "redis-server does not run in the $SUITE root"; }
case "$VERSION" in
  *v=8.* | *v=9.*) ;;
  *) rm -rf "$TMP"; fail "the $SUITE root has no redis 8 (got: $VERSION)" ;;
esac
# Vector sets must answer: a throwaway server on a loopback port, one VADD and one VSIM.
PORT=$((20000 + RANDOM % 20000))
chroot "$TMP/root" redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no >/dev/null 2>&1 &
PID=$!
for _ in $(seq 1 100); do chroot "$TMP/root" redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
OUT="$(chroot "$TMP/root" redis-cli -p "$PORT" VADD probe VALUES 2 1 0 a 2>&1; chroot "$TMP/root" redis-cli -p "$PORT" VSIM probe VALUES 2 1 0 COUNT 1 2>&1)" || true
kill "$PID" 2>/dev/null || true
wait "$PID" 2>/dev/null || true
[ "$OUT" = "$(printf '1\na')" ] || { rm -rf "$TMP"; fail "VADD/VSIM do not work on the $SUITE redis-server: $OUT"; }
printf '%s\n' "$VERSION" >"$TMP/root/.tollgate-ok"
rm -rf "$ROOT"
mv "$TMP/root" "$ROOT"
rm -rf "$TMP"
echo "ensure-redis8: ready ($VERSION)" >&2
echo "$ROOT"
