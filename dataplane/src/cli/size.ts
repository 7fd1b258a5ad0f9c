/** Byte sizes on the command line: `1048576`, `512Ki`, `32Mi`, `1Gi`. */

const SIZE_UNITS: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };

/** `1048576`, `512Ki`, `32Mi`, `1Gi` → bytes; undefined when malformed. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(text.trim());
  if (!m) return undefined;
  const bytes = Number(m[1]) * SIZE_UNITS[m[2] ?? '']!;
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}
