"""The seven one-line mutations of documented routing rules that issue 12 found surviving the suite.
Each is applied alone, the named tests run, and the file is restored; every mutation must make a test fail.
Run from the repository root: python3 scripts/routing-mutants.py [number ...]"""
import subprocess, sys, re
muts = [
 ("1 error event before first byte not retried", "dataplane/src/proxy/stream-relay.ts",
  "      if (upstreamErr !== undefined && !started)", "      if (upstreamErr !== undefined && !started && false)",
  ["dataplane/src/proxy/stream-relay.test.ts", "test/dataplane/routing.test.ts"]),
 ("2 401/403 not counted against health", "dataplane/src/proxy/classify.ts",
  "  credential_rejected: { outcome: 'http_4xx', retryOn: '5xx', health: true },", "  credential_rejected: { outcome: 'http_4xx', retryOn: '5xx', health: false },",
  ["dataplane/src/proxy/classify.test.ts", "test/dataplane/routing.test.ts"]),
 ("3 stream broken after first byte not counted", "dataplane/src/proxy/call.ts",
  "    if (c.health) a.backend.health.failure(a.healthEpoch);\n    this.hookAttemptEnd(a.info, c.outcome, 200);\n    if (!this.clientGone) this.res.end(",
  "    this.hookAttemptEnd(a.info, c.outcome, 200);\n    if (!this.clientGone) this.res.end(",
  ["test/dataplane/routing.test.ts"]),
 ("4 Retry-After ignored on 503", "dataplane/src/proxy/classify.ts",
  "  return status === 429 || status === 503 ? parseRetryAfter(header, now) : undefined;", "  return status === 429 ? parseRetryAfter(header, now) : undefined;",
  ["dataplane/src/proxy/classify.test.ts", "test/chaos/retry-after-503.test.ts"]),
 ("5 usage estimated for a failed request", "dataplane/src/accounting/observer.ts",
  "    if (info.provider !== undefined && info.status < 400) {", "    if (info.provider !== undefined) {",
  ["test/dataplane/failed-not-charged.test.ts"]),
 ("6 success does not reset failure count", "dataplane/src/routing/health.ts",
  "  success(): void {\n    this.consecutiveFailures = 0;\n", "  success(): void {\n",
  ["dataplane/src/routing/health.test.ts", "dataplane/src/routing/select.test.ts"]),
 ("7 retry sleeps past the budget", "dataplane/src/proxy/next-step.ts",
  "  if (delayMs >= remainingMs) return undefined;\n", "",
  ["dataplane/src/proxy/next-step.test.ts"]),
]
only = sys.argv[1:] 
for name, f, old, new, tests in muts:
    if only and name[0] not in only: continue
    # The file is restored with `git checkout`: refuse to touch one with uncommitted changes.
    if subprocess.run(['git', 'diff', '--quiet', '--', f]).returncode != 0:
        sys.exit(f'{f} has uncommitted changes; commit or stash them first')
    s = open(f).read()
    assert s.count(old) == 1, (name, s.count(old))
    open(f, 'w').write(s.replace(old, new))
    diff = subprocess.run(['git', 'diff', '-U0', f], capture_output=True, text=True).stdout
    lines = [l for l in diff.splitlines() if l.startswith('@@') or (l[:1] in '+-' and not l.startswith(('+++', '---')))]
    r = subprocess.run(['node', '--experimental-vm-modules', '--disable-warning=ExperimentalWarning', 'node_modules/jest/bin/jest.js', *tests], capture_output=True, text=True)
    out = r.stdout + r.stderr
    failed = sorted(set(m.strip() for m in re.findall(r'^\s*● (.+)$', out, re.M) if 'Console' not in m))
    summary = [l for l in out.splitlines() if l.startswith('Tests:')]
    subprocess.run(['git', 'checkout', '--', f])
    print('==', name, '|', f)
    print('\n'.join(lines))
    print('  failed:', failed)
    print(' ', summary)
