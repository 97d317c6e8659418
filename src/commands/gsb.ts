/**
 * `nestsim gsb decode | encode`: Guest State Buffers between wire hex and people (docs/gsb.md).
 * decode prints one row per element (or JSON with --json) and, with --check <request>, the answer
 * an L0 would give that request; encode reads the JSON shape decode prints and writes hex, so
 * `nestsim gsb encode "$(nestsim gsb decode --json X)"` prints X again.
 * Bad input is one UserError line naming the element and the reason (exit code 2).
 */
import { readFile } from 'node:fs/promises';
import type { Argv, CommandModule } from 'yargs';
import { elementById, formatElementId } from '../../hypervisor/gsb/elements.js';
import {
  formatHex,
  formatValueText,
  fromJsonElements,
  parseHex,
  toJsonElement,
} from '../../hypervisor/gsb/text.js';
import {
  describeFailure,
  failureLocation,
  REQUEST_KINDS,
  type RequestKind,
  validateGsb,
} from '../../hypervisor/gsb/validate.js';
import { type DecodedElement, decodeGsb, encodeGsb } from '../../hypervisor/gsb/values.js';
import { returnCodeName } from '../../hypervisor/papr.js';
import type { Io } from '../cli.js';
import { ExitCode, UserError } from '../errors.js';

interface DecodeArgs {
  input: string[];
  json: boolean;
  binary: boolean;
  check?: RequestKind;
}

interface EncodeArgs {
  input: string[];
  capacity?: number;
}

/** `nestsim gsb` and its two actions. */
export function gsbCommand(io: Io, setExit: (code: number) => void): CommandModule {
  const decode: CommandModule<object, DecodeArgs> = {
    command: 'decode <input..>',
    describe: 'Print the elements of a guest state buffer given as hex, @file or - (stdin)',
    builder: (y: Argv) =>
      y
        .positional('input', { type: 'string', array: true, demandOption: true, describe: 'hex, @file or -' })
        .option('json', { type: 'boolean', default: false, describe: 'print a JSON array of elements' })
        .option('binary', {
          type: 'boolean',
          default: false,
          describe: 'the @file or stdin holds raw bytes, not hex text',
        })
        .option('check', {
          choices: REQUEST_KINDS.filter((k) => k !== 'any'),
          describe: 'also print what L0 answers this request for the buffer (exit 1 unless H_SUCCESS)',
        }) as unknown as Argv<DecodeArgs>,
    handler: async (a) => {
      const bytes = await readBytes(io, inputWords(a.input), a.binary);
      setExit(runDecode(io, bytes, a));
    },
  };
  const encode: CommandModule<object, EncodeArgs> = {
    command: 'encode <input..>',
    describe: 'Print the hex of a guest state buffer given as JSON, @file or - (stdin)',
    builder: (y: Argv) =>
      y
        .positional('input', {
          type: 'string',
          array: true,
          demandOption: true,
          describe: 'JSON, @file or -',
        })
        .option('capacity', {
          type: 'number',
          describe:
            'buffer capacity (rounded up to a power of two, as Linux does); output is zero padded to it',
        }) as unknown as Argv<EncodeArgs>,
    handler: async (a) => {
      const text = new TextDecoder().decode(await readInput(io, inputWords(a.input)));
      io.out(`${runEncode(text, a.capacity)}\n`);
    },
  };
  return {
    command: 'gsb',
    describe: 'Decode and encode guest state buffers (the PAPR nested v2 wire format)',
    builder: (y: Argv) =>
      y.command(decode).command(encode).demandCommand(1, 'Name a gsb action: decode or encode.'),
    handler: () => {},
  };
}

/**
 * The positional words. yargs drops a lone "-" from a variadic positional yet counts it as given,
 * so an empty list can only mean "-" (stdin).
 */
function inputWords(input: string[] | undefined): string[] {
  return input === undefined || input.length === 0 ? ['-'] : input;
}

/** The raw input: stdin for "-", a file for "@path", else the words joined with spaces. */
async function readInput(io: Io, words: string[], binary = false): Promise<Uint8Array> {
  const first = words[0] ?? '';
  if (words.length === 1 && first === '-') return io.readStdin();
  if (words.length === 1 && first.startsWith('@')) {
    const path = first.slice(1);
    try {
      return await readFile(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? String(e);
      throw new UserError(first, `cannot read the file (${code})`);
    }
  }
  if (binary)
    throw new UserError('--binary', 'needs @file or - (stdin): a raw buffer cannot be typed as an argument');
  return new TextEncoder().encode(words.join(' '));
}

async function readBytes(io: Io, words: string[], binary: boolean): Promise<Uint8Array> {
  const raw = await readInput(io, words, binary);
  if (binary) return raw;
  const hex = parseHex(new TextDecoder().decode(raw));
  if (!hex.ok) {
    const looksBinary = raw.some((b) => b === 0 || b > 0x7e);
    throw new UserError('hex input', hex.reason + (looksBinary ? ' (use --binary for raw bytes)' : ''));
  }
  return hex.value;
}

/** Prints the elements (and the L0 answer with --check); returns the exit code. */
function runDecode(io: Io, bytes: Uint8Array, a: DecodeArgs): number {
  const d = decodeGsb(bytes);
  if (!d.ok && a.check === undefined) throw failureError(d);
  if (d.ok) io.out(a.json ? formatJson(d.elements) : formatTable(d.elements, d.used, bytes.length));
  if (a.check === undefined) return ExitCode.OK;
  const v = validateGsb(bytes, a.check);
  const line = v.ok
    ? `L0 answer to ${a.check}: H_SUCCESS (${v.count} elements, ${v.used} bytes)`
    : `L0 answer to ${a.check}: ${returnCodeName(v.rc)} (${v.rc}), R4 = ${v.r4}: ${describeFailure(v)}`;
  // With --json, stdout stays pure JSON.
  (a.json ? io.err : io.out)(`${line}\n`);
  return v.ok ? ExitCode.OK : ExitCode.CHECK_FAILED;
}

/** A decode failure as one UserError naming the element. */
function failureError(f: { index: number; byteOffset: number; id: number; reason: string }): UserError {
  return new UserError(failureLocation(f) || 'buffer', f.reason);
}

/** The JSON array, one element per line. */
function formatJson(elements: readonly DecodedElement[]): string {
  if (elements.length === 0) return '[]\n';
  return `[\n${elements.map((e) => `  ${JSON.stringify(toJsonElement(e))}`).join(',\n')}\n]\n`;
}

/** One row per element, then a summary line. */
function formatTable(elements: readonly DecodedElement[], used: number, total: number): string {
  const rows = [['#', 'byte', 'id', 'name', 'size', 'value']];
  let at = 4;
  for (const [i, e] of elements.entries()) {
    rows.push([String(i), String(at), formatElementId(e.id), e.name, String(e.size), formatValueText(e)]);
    at += 4 + e.size;
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const rightAligned = new Set([0, 1, 4]);
  const lines = rows.map((r) =>
    r
      .map((cell, c) =>
        c === r.length - 1 ? cell : rightAligned.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!),
      )
      .join('  ')
      .trimEnd(),
  );
  const n = elements.length;
  let summary = `${n} element${n === 1 ? '' : 's'}, ${used} bytes`;
  if (total > used) summary += ` (${total - used} more bytes after the last element: unused capacity)`;
  return `${(n > 0 ? lines : []).concat(summary).join('\n')}\n`;
}

/** Hex of the buffer described by JSON `text`; UserError on any problem. */
function runEncode(text: string, capacity: number | undefined): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new UserError('JSON input', (e as Error).message);
  }
  const list = fromJsonElements(parsed);
  if (!list.ok) {
    const where =
      list.index < 0 ? 'JSON input' : `element ${list.index}${list.element ? ` (${list.element})` : ''}`;
    throw new UserError(where, list.reason);
  }
  if (capacity !== undefined && (!Number.isInteger(capacity) || capacity < 4 || capacity > 1 << 30)) {
    throw new UserError('--capacity', `${capacity} is not an integer in 4..2^30`);
  }
  const r = encodeGsb(list.elements, capacity);
  if (!r.ok) {
    const e = list.elements[r.index];
    const where = e
      ? `element ${r.index} (${formatElementId(e.id)} ${elementById(e.id)?.name ?? '?'})`
      : 'buffer';
    throw new UserError(where, r.reason);
  }
  return formatHex(capacity === undefined ? r.bytes : r.region);
}
