/**
 * `nestsim gsb decode | encode` through main() with a capturing Io (exact output, exit codes 0, 1
 * and 2, one-line errors naming the element), plus one run of the built binary.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli-harness.js';
import { spawnSync } from './support/spawn.js';

/** The T5 message of spec §12 (92 bytes). */
const T5 =
  '00000005' +
  '1000000800000000deadbeef' +
  '2000000400000001' +
  `00050018${'00'.repeat(24)}` +
  `00060010${'00'.repeat(16)}` +
  `0c000010${'00'.repeat(16)}`;

/** One element of every value kind, with values whose every bit matters. */
const MIXED =
  '00000008' +
  '2000 0004 80000001' +
  '101f 0008 8000000000000001' +
  '303f 0010 0123456789abcdef fedcba9876543210' +
  '0c01 0010 0000000000010000 0000000000000080' +
  '0006 0010 0000000002000000 0000000000001000' +
  '0005 0018 0000000001230000 0000000000000034 0000000000010000' +
  '0000 0003 a1b2c3' +
  '0804 0008 ffffffffffffffff';
const MIXED_HEX = MIXED.replaceAll(' ', '');

describe('nestsim gsb decode', () => {
  it('prints one row per element with structured fields', async () => {
    const r = await runCli(['gsb', 'decode', MIXED]);
    expect(r).toEqual({
      code: 0,
      err: '',
      out: [
        '#  byte  id      name                      size  value',
        '0     4  0x2000  CR                           4  0x80000001',
        '1    12  0x101f  GPR31                        8  0x8000000000000001',
        '2    24  0x303f  VSR63                       16  dw0=0x0123456789abcdef dw1=0xfedcba9876543210',
        '3    44  0x0c01  RUN_OUTPUT                  16  address=0x0000000000010000 bytes=128',
        '4    64  0x0006  PROCESS_TABLE               16  address=0x0000000002000000 bytes=4096',
        '5    84  0x0005  PARTITION_TABLE             24  address=0x0000000001230000 eaBits=52 rootBytes=65536',
        '6   112  0x0000  BLANK                        3  0xa1b2c3',
        '7   119  0x0804  L0_GUEST_PGTABLE_RECLAIM     8  0xffffffffffffffff',
        '8 elements, 131 bytes',
        '',
      ].join('\n'),
    });
  });

  it('--json prints the documented shape', async () => {
    const r = await runCli(['gsb', 'decode', '--json', MIXED]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual([
      { id: '0x2000', name: 'CR', size: 4, value: '0x80000001' },
      { id: '0x101f', name: 'GPR31', size: 8, value: '0x8000000000000001' },
      {
        id: '0x303f',
        name: 'VSR63',
        size: 16,
        value: { dw0: '0x0123456789abcdef', dw1: '0xfedcba9876543210' },
      },
      { id: '0x0c01', name: 'RUN_OUTPUT', size: 16, value: { address: '0x0000000000010000', bytes: 128 } },
      {
        id: '0x0006',
        name: 'PROCESS_TABLE',
        size: 16,
        value: { address: '0x0000000002000000', bytes: 4096 },
      },
      {
        id: '0x0005',
        name: 'PARTITION_TABLE',
        size: 24,
        value: { address: '0x0000000001230000', eaBits: 52, rootBytes: 65536 },
      },
      { id: '0x0000', name: 'BLANK', size: 3, value: '0xa1b2c3' },
      { id: '0x0804', name: 'L0_GUEST_PGTABLE_RECLAIM', size: 8, value: '0xffffffffffffffff' },
    ]);
  });

  it('tolerates whitespace, 0x prefixes and : / - separators', async () => {
    const forms = [
      '0x00000001 0x1001 0x0008 0x00000000cafef00d',
      '00:00:00:01:10:01:00:08:00:00:00:00:ca:fe:f0:0d',
      '00000001-1001-0008-00000000CAFEF00D',
      '\n  000000011001\t000800000000cafef00d\n',
    ];
    for (const f of forms) {
      const r = await runCli(['gsb', 'decode', '--json', f]);
      expect(r.code, f).toBe(0);
      expect(JSON.parse(r.out)).toEqual([
        { id: '0x1001', name: 'GPR1', size: 8, value: '0x00000000cafef00d' },
      ]);
    }
    // Several words are joined, so an unquoted spaced buffer works too.
    const words = await runCli(['gsb', 'decode', '00000001', '1001', '0008', '00000000cafef00d']);
    expect(words.out).toContain('GPR1');
  });

  it('reports unused capacity and an empty buffer', async () => {
    expect((await runCli(['gsb', 'decode', `00000001 2000 0004 00000001 ${'00'.repeat(20)}`])).out).toContain(
      '1 element, 12 bytes (20 more bytes after the last element: unused capacity)',
    );
    expect(await runCli(['gsb', 'decode', '00000000'])).toEqual({
      code: 0,
      out: '0 elements, 4 bytes\n',
      err: '',
    });
    expect((await runCli(['gsb', 'decode', '--json', '00000000'])).out).toBe('[]\n');
  });

  it('reads stdin for -, a file for @path, raw bytes with --binary', async () => {
    expect((await runCli(['gsb', 'decode', '-'], `${T5}\n`)).out).toContain('5 elements, 92 bytes');
    const dir = mkdtempSync(join(tmpdir(), 'nestsim-gsb-'));
    writeFileSync(join(dir, 'b.hex'), `${T5}\n`);
    writeFileSync(join(dir, 'b.bin'), Buffer.from(T5, 'hex'));
    expect((await runCli(['gsb', 'decode', `@${join(dir, 'b.hex')}`])).out).toContain('5 elements, 92 bytes');
    expect((await runCli(['gsb', 'decode', '--binary', `@${join(dir, 'b.bin')}`])).out).toContain(
      '5 elements, 92 bytes',
    );
    const wrong = await runCli(['gsb', 'decode', `@${join(dir, 'b.bin')}`]);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/use --binary for raw bytes/);
  });

  it('--check prints the L0 answer: exit 0 on H_SUCCESS, 1 otherwise', async () => {
    const ok = await runCli([
      'gsb',
      'decode',
      '--check',
      'set-thread',
      '00000001 1001 0008 00000000cafef00d',
    ]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/L0 answer to set-thread: H_SUCCESS \(1 elements, 16 bytes\)\n$/);
    const bad = await runCli([
      'gsb',
      'decode',
      '--check',
      'set-guest',
      '00000001 1001 0008 00000000cafef00d',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(
      /L0 answer to set-guest: H_INVALID_ELEMENT_VALUE \(-81\), R4 = 0: element 0 \(0x1001 GPR1\) at byte 4: thread-wide element in a guest-wide SET_STATE\n$/,
    );
    // A malformed buffer is an answer too with --check, not a usage error; RUN_VCPU reports offsets.
    const run0 = await runCli([
      'gsb',
      'decode',
      '--check',
      'run-input',
      '00000002 1001 0008 00000000cafef00d 2000 0008 0000000000000000',
    ]);
    expect(run0.code).toBe(1);
    expect(run0.out).toBe(
      'L0 answer to run-input: H_INVALID_ELEMENT_SIZE (-80), R4 = 16: element 1 (0x2000 CR) at byte 16: length 8, CR is 4 bytes\n',
    );
    // With --json, stdout stays JSON.
    const json = await runCli([
      'gsb',
      'decode',
      '--json',
      '--check',
      'get-host',
      '00000001 1001 0008 00000000cafef00d',
    ]);
    expect(JSON.parse(json.out)).toHaveLength(1);
    expect(json.err).toMatch(/H_INVALID_ELEMENT_VALUE/);
  });

  const decodeErrors: [string, string, RegExp][] = [
    [
      'odd number of digits',
      '0000000',
      /^nestsim: hex input: odd number of hex digits \(7\); every byte needs two\n$/,
    ],
    ['a non-hex character', '0000000g', /^nestsim: hex input: "g" at column 8 is not a hex digit\n$/],
    [
      'a count that overruns the bytes',
      '00000002 1001 0008 00000000cafef00d',
      /^nestsim: element 1 at byte 16: header count 2 runs past the 16-byte buffer \(this element needs 4 bytes, 0 remain\)\n$/,
    ],
    [
      'a value that overruns the bytes',
      '00000001 1001 0008 0000',
      /^nestsim: element 0 \(0x1001 GPR1\) at byte 4: header count 1 runs past the 10-byte buffer \(this element needs 12 bytes, 6 remain\)\n$/,
    ],
    [
      'a wrong size for the ID',
      '00000001 2000 0008 0000000000000001',
      /^nestsim: element 0 \(0x2000 CR\) at byte 4: length 8, CR is 4 bytes\n$/,
    ],
    [
      'a reserved ID',
      '00000001 0007 0000',
      /^nestsim: element 0 \(0x0007\) at byte 4: reserved element ID\n$/,
    ],
    ['too short for the header', '0000', /^nestsim: buffer: 2-byte buffer cannot hold the 4-byte header\n$/],
  ];
  it.each(decodeErrors)('%s → exit 2, one line', async (_, input, message) => {
    const r = await runCli(['gsb', 'decode', input]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(message);
  });

  it('a missing file and --binary without a file are usage errors', async () => {
    const r = await runCli(['gsb', 'decode', '@/nonexistent/nestsim.hex']);
    expect(r).toMatchObject({
      code: 2,
      err: 'nestsim: @/nonexistent/nestsim.hex: cannot read the file (ENOENT)\n',
    });
    expect((await runCli(['gsb', 'decode', '--binary', '00000000'])).code).toBe(2);
  });
});

describe('nestsim gsb encode', () => {
  it('prints the hex of the buffer; names, numbers and hex strings accepted, size optional', async () => {
    const json = JSON.stringify([
      { name: 'gpr1', value: 0xcafef00d },
      { id: 'CR', value: '0x80000001' },
      { id: 0x3000, value: '0x0000000000000001_0000000000000002' },
      { id: '4097', value: '18446744073709551615' },
      { id: '0x0005', size: 24, value: { address: '0x1230000', eaBits: 52, rootBytes: '65536' } },
      { name: 'BLANK', size: 2 },
    ]);
    const r = await runCli(['gsb', 'encode', json]);
    expect(r).toEqual({
      code: 0,
      err: '',
      out: `${[
        '00000006',
        '1001 0008 00000000cafef00d',
        '2000 0004 80000001',
        '3000 0010 0000000000000001 0000000000000002',
        '1001 0008 ffffffffffffffff',
        '0005 0018 0000000001230000 0000000000000034 0000000000010000',
        '0000 0002 0000',
      ]
        .join('')
        .replaceAll(' ', '')}\n`,
    });
  });

  it('round trip: encode "$(decode --json X)" prints X', async () => {
    for (const x of [T5, MIXED_HEX, '00000000', `00000001 0000 0000`.replaceAll(' ', '')]) {
      const d = await runCli(['gsb', 'decode', '--json', x]);
      expect(d.code).toBe(0);
      const e = await runCli(['gsb', 'encode', d.out]);
      expect(e).toEqual({ code: 0, out: `${x}\n`, err: '' });
    }
  });

  it('--capacity rounds up to a power of two and pads with zeros', async () => {
    const d = await runCli(['gsb', 'decode', '--json', T5]);
    const e = await runCli(['gsb', 'encode', '--capacity', '100', d.out]);
    expect(e.out).toBe(`${T5}${'00'.repeat(128 - 92)}\n`);
    const full = await runCli([
      'gsb',
      'encode',
      '--capacity',
      '64',
      `[${'{"name":"L0_GUEST_HEAP","value":1},'.repeat(5).slice(0, -1)}]`,
    ]);
    expect(full.out.trim().length).toBe(128);
  });

  it('reads JSON from stdin and from a file', async () => {
    expect((await runCli(['gsb', 'encode', '-'], '[{"name":"CR","value":5}]')).out).toBe(
      '000000012000000400000005\n',
    );
    const dir = mkdtempSync(join(tmpdir(), 'nestsim-gsb-'));
    writeFileSync(join(dir, 'e.json'), '{"name":"CR","value":5}');
    expect((await runCli(['gsb', 'encode', `@${join(dir, 'e.json')}`])).out).toBe(
      '000000012000000400000005\n',
    );
  });

  const encodeErrors: [string, string, string][] = [
    ['bad JSON', '[{', 'nestsim: JSON input: '],
    ['not an array', '"GPR0"', 'nestsim: JSON input: expected a JSON array of elements, got string "GPR0"'],
    ['an unknown name', '[{"name":"GRP0","value":1}]', 'nestsim: element 0: unknown element name "GRP0"'],
    [
      'an unknown ID',
      '[{"id":"0x0007","value":1}]',
      'nestsim: element 0: unknown element ID 0x0007 (reserved)',
    ],
    [
      'a value too wide',
      '[{"name":"CR","value":1},{"name":"CR","value":"0x100000000"}]',
      'nestsim: element 1 (0x2000 CR): value: 0x100000000 does not fit in 32 bits',
    ],
    [
      'a 65-bit u64',
      '[{"id":"0x1000","value":"0x1ffffffffffffffff"}]',
      'nestsim: element 0 (0x1000 GPR0): value: 0x1ffffffffffffffff does not fit in 64 bits',
    ],
    [
      'an inexact JSON number',
      '[{"name":"GPR0","value":18446744073709551615}]',
      'nestsim: element 0 (0x1000 GPR0): value: 18446744073709552000 is not exact in JSON; write it as a hex string',
    ],
    [
      'a negative value',
      '[{"name":"GPR0","value":-1}]',
      'nestsim: element 0 (0x1000 GPR0): value: -1 is not an unsigned integer',
    ],
    [
      'a wrong size',
      '[{"name":"GPR0","size":4,"value":1}]',
      'nestsim: element 0 (0x1000 GPR0): size 4, but GPR0 is 8 bytes',
    ],
    ['a missing value', '[{"name":"GPR0"}]', 'nestsim: element 0 (0x1000 GPR0): missing "value"'],
    [
      'an unknown key',
      '[{"name":"GPR0","vlaue":1}]',
      'nestsim: element 0: unknown key "vlaue" (expected id, name, size, value)',
    ],
    [
      'id and name disagree',
      '[{"id":"0x1000","name":"GPR1","value":1}]',
      'nestsim: element 0: id 0x1000 is GPR0, but name says GPR1',
    ],
    [
      'a missing structured field',
      '[{"name":"PARTITION_TABLE","value":{"address":0,"eaBits":52}}]',
      'nestsim: element 0 (0x0005 PARTITION_TABLE): value: missing field "rootBytes"',
    ],
    [
      'a BLANK whose bytes disagree with its size',
      '[{"name":"BLANK","size":3,"value":"0xaabb"}]',
      'nestsim: element 0 (0x0000 BLANK): value: size 3 but the value has 2 bytes',
    ],
  ];
  it.each(encodeErrors)('%s → exit 2, one line', async (_, json, message) => {
    const r = await runCli(['gsb', 'encode', json]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.startsWith(message)).toBe(true);
    expect(r.err.split('\n')).toHaveLength(2);
  });

  it('a capacity too small for the elements names the first that does not fit', async () => {
    const r = await runCli([
      'gsb',
      'encode',
      '--capacity',
      '16',
      '[{"name":"GPR0","value":1},{"name":"GPR1","value":2}]',
    ]);
    expect(r).toMatchObject({
      code: 2,
      err: 'nestsim: element 1 (0x1001 GPR1): does not fit in a 16-byte buffer (28 bytes needed)\n',
    });
    expect((await runCli(['gsb', 'encode', '--capacity', '2', '[]'])).code).toBe(2);
  });

  it('gsb without an action is a usage error', async () => {
    const r = await runCli(['gsb']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Name a gsb action/);
  });
});

describe('the built binary', () => {
  const root = join(import.meta.dirname, '..');
  const built = join(root, 'dist', 'src', 'commands', 'gsb.js');

  /** Newest modification time of the sources the binary runs. */
  function newestSource(): number {
    const dirs = [join(root, 'src'), join(root, 'src', 'commands'), join(root, 'hypervisor', 'gsb')];
    let t = 0;
    for (const d of dirs)
      for (const f of readdirSync(d)) if (f.endsWith('.ts')) t = Math.max(t, statSync(join(d, f)).mtimeMs);
    return t;
  }

  beforeAll(() => {
    // `npm test` builds first; when run alone, rebuild if dist is missing or stale. tsc emits even
    // when some other file has a type error, so a failure here is reported but not fatal.
    if (!existsSync(built) || statSync(built).mtimeMs < newestSource()) {
      try {
        execFileSync(
          process.execPath,
          [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'],
          {
            cwd: root,
            stdio: 'pipe',
          },
        );
      } catch (e) {
        console.warn(`tsc reported errors: ${(e as { stdout?: Buffer }).stdout?.toString() ?? e}`);
      }
    }
  });

  it('node bin/nestsim.js gsb decode prints the table; a bad buffer exits 2 with one line', () => {
    const ok = spawnSync(
      process.execPath,
      ['bin/nestsim.js', 'gsb', 'decode', '00000001 1001 0008 00000000cafef00d'],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toBe(
      '#  byte  id      name  size  value\n0     4  0x1001  GPR1     8  0x00000000cafef00d\n1 element, 16 bytes\n',
    );
    const bad = spawnSync(
      process.execPath,
      ['bin/nestsim.js', 'gsb', 'decode', '00000001 2000 0008 0000000000000001'],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe('nestsim: element 0 (0x2000 CR) at byte 4: length 8, CR is 4 bytes\n');
  });

  it('stdin round trip through two processes', () => {
    const json = spawnSync(process.execPath, ['bin/nestsim.js', 'gsb', 'decode', '--json', '-'], {
      cwd: root,
      encoding: 'utf8',
      input: T5,
    });
    expect(json.status).toBe(0);
    const hex = spawnSync(process.execPath, ['bin/nestsim.js', 'gsb', 'encode', '-'], {
      cwd: root,
      encoding: 'utf8',
      input: json.stdout,
    });
    expect(hex.stdout).toBe(`${T5}\n`);
  });
});
