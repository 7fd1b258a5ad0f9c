// Completes package-lock.json with the other platforms' optional native packages (Biome, swc, the
// jest resolver's bindings: darwin, win32, musl, ...). `npm install` leaves an optional dependency out
// of the lock when the registry it talks to does not serve it, as our build machines' mirror does for
// non-Linux builds; `npm ci` then rejects the lock everywhere. Each missing entry is written with the
// exact version its parent pins and the os/cpu/libc its name states, so npm ci on any machine skips
// the ones for other platforms and installs the right one. Run it after `npm install`:
//   node scripts/lock-platforms.mjs            (writes package-lock.json)
//   node scripts/lock-platforms.mjs --check    (exit 1 if anything is missing)
import { readFileSync, writeFileSync } from 'node:fs';

const OS = ['android', 'darwin', 'linux', 'win32', 'freebsd', 'openharmony', 'sunos', 'aix', 'netbsd', 'openbsd'];
const CPU = {
  arm64: 'arm64',
  x64: 'x64',
  ia32: 'ia32',
  arm: 'arm',
  ppc64: 'ppc64',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
};

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.find((p) => OS.includes(p));
  const cpu = parts.map((p) => CPU[p]).find(Boolean);
  if (!os || !cpu) return undefined;
  const entry = { cpu: [cpu], os: [os] };
  if (os === 'linux' && parts.some((p) => p.startsWith('musl'))) entry.libc = ['musl'];
  else if (os === 'linux' && parts.some((p) => p === 'gnu' || p.startsWith('gnueabi'))) entry.libc = ['glibc'];
  return entry;
}

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;
const added = [];
const unknown = [];
for (const [key, pkg] of Object.entries(packages)) {
  if (key === '' || !pkg.optionalDependencies) continue;
  const base = key.slice(0, key.lastIndexOf('node_modules/'));
  for (const [dep, spec] of Object.entries(pkg.optionalDependencies)) {
    const nested = `${key}/node_modules/${dep}`;
    const hoisted = `${base}node_modules/${dep}`;
    if (packages[nested] || packages[hoisted] || packages[`node_modules/${dep}`]) continue;
    const platform = platformOf(dep);
    if (!/^\d+\.\d+\.\d+(?:[-+].*)?$/.test(spec) || !platform) {
      unknown.push(`${dep}@${spec} (optional dependency of ${key})`);
      continue;
    }
    packages[hoisted] = { version: spec, ...platform, ...(pkg.dev ? { dev: true } : {}), optional: true };
    added.push(`${dep}@${spec}`);
  }
}
if (unknown.length > 0) {
  console.error(`lock-platforms: cannot infer a platform for:\n  ${unknown.join('\n  ')}`);
  process.exit(1);
}
if (process.argv.includes('--check')) {
  if (added.length > 0) {
    console.error(
      `lock-platforms: package-lock.json lacks ${added.length} optional platform packages; run node scripts/lock-platforms.mjs`,
    );
    process.exit(1);
  }
  console.log('lock-platforms: complete');
} else {
  lock.packages = Object.fromEntries(
    Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)),
  );
  writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
  console.log(`lock-platforms: added ${added.length} entries${added.length ? `: ${added.join(', ')}` : ''}`);
}
