/** Parsing and printing of the sizes and counts users type ("64MiB", "1e9", "4G"). */
import { UserError } from './errors.js';

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/** Bytes of a size like 65536, "64MiB", "1g" or "512 KiB"; `where` names the option for errors. */
export function parseSize(where: string, v: unknown): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) return v;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(String(v));
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined)
    throw new UserError(where, `'${String(v)}' is not a size (examples: 65536, 64MiB, 1GiB)`);
  const bytes = Math.round(Number(m[1]) * unit);
  if (!(bytes > 0) || !Number.isSafeInteger(bytes))
    throw new UserError(where, `size ${String(v)} out of range`);
  return bytes;
}

/** A positive integer count like 1000, "1e9" or "2_000_000". */
export function parseCount(where: string, v: unknown): number {
  const n = typeof v === 'number' ? v : Number(String(v).replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new UserError(where, `'${String(v)}' is not a positive whole number`);
  return n;
}

/** "1.23 MiB"-style text for reports. */
export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(2)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

/** A run length: wall time ("5s", "250ms") or virtual time in instructions ("2e8", "150M", 1e6). */
export type Duration = { kind: 'wall'; ms: number } | { kind: 'virtual'; instructions: number };

const COUNT_SUFFIX: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9 };

/** Parses a Duration; `where` names the option for errors. */
export function parseDuration(where: string, v: unknown): Duration {
  if (typeof v === 'number') return { kind: 'virtual', instructions: parseCount(where, v) };
  const text = String(v).trim().replaceAll('_', '');
  const wall = /^(\d+(?:\.\d+)?)\s*(ms|s|min)$/i.exec(text);
  if (wall) {
    const ms =
      Number(wall[1]) * { ms: 1, s: 1000, min: 60_000 }[wall[2]!.toLowerCase() as 'ms' | 's' | 'min'];
    if (!(ms > 0 && ms <= 24 * 3600_000)) throw new UserError(where, `duration ${text} out of range`);
    return { kind: 'wall', ms };
  }
  const virt = /^(\d+(?:\.\d+)?(?:e\d+)?)\s*([kmg]?)$/i.exec(text);
  if (virt) {
    const n = Math.round(Number(virt[1]) * COUNT_SUFFIX[virt[2]!.toLowerCase()]!);
    return { kind: 'virtual', instructions: parseCount(where, n) };
  }
  throw new UserError(
    where,
    `'${text}' is not a duration (wall: 5s, 250ms; virtual instructions: 2e8, 150M)`,
  );
}

/** A Duration as the flag that gives it back. */
export function formatDuration(d: Duration): string {
  return d.kind === 'wall' ? `${d.ms}ms` : String(d.instructions);
}
