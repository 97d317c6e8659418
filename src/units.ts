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
