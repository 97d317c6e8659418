/**
 * Loading a scenario file: YAML → zod validation → programs resolved and read. Every mistake is
 * one UserError naming the file, the field and the reason (exit code 2).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { type ElfImage, readElfFile } from '../../cores/elf.js';
import { UserError } from '../errors.js';
import { packageRoot } from '../package-files.js';
import { type Scenario, scenarioSchema } from './schema.js';

/** The scenario `nestsim run` runs without an argument. */
export const DEFAULT_SCENARIO = join(packageRoot(), 'config', 'default.yaml');
/** Where shipped guests live. */
export const SHIPPED_GUESTS = join(packageRoot(), 'guests', 'bin');

/** A scenario ready to run: validated, with each group's program loaded. */
export interface LoadedScenario {
  file: string;
  scenario: Scenario;
  programs: Map<string, { path: string; image: ElfImage }>;
  /** Expected stdout of each group that names one (from `stdout` or `stdoutFile`). */
  expectedStdout: Map<string, string>;
}

/** Reads, validates and resolves a scenario file (the default one when `path` is undefined). */
export function loadScenario(path: string | undefined): LoadedScenario {
  const file = resolve(path ?? DEFAULT_SCENARIO);
  const parsed = { data: readYaml(file, scenarioSchema, 'scenario') };
  const scenario = parsed.data;
  const names = new Set<string>();
  const programs = new Map<string, { path: string; image: ElfImage }>();
  const expectedStdout = new Map<string, string>();
  for (const [i, g] of scenario.guests.entries()) {
    const where = `${file}: guests.${i}`;
    if (names.has(g.name)) throw new UserError(`${where}.name`, `duplicate group name '${g.name}'`);
    names.add(g.name);
    const p = resolveProgram(file, g.program);
    if (!p)
      throw new UserError(
        `${where}.program`,
        `'${g.program}' is neither a file nor a shipped guest (see guests/bin)`,
      );
    programs.set(g.name, { path: p, image: readElfFile(p) });
    if (g.expect?.stdout !== undefined && g.expect.stdoutFile !== undefined)
      throw new UserError(`${where}.expect`, 'give stdout or stdoutFile, not both');
    if (g.expect?.stdout !== undefined) expectedStdout.set(g.name, g.expect.stdout);
    if (g.expect?.stdoutFile !== undefined) {
      const f = isAbsolute(g.expect.stdoutFile)
        ? g.expect.stdoutFile
        : join(dirname(file), g.expect.stdoutFile);
      if (!existsSync(f)) throw new UserError(`${where}.expect.stdoutFile`, `no file ${f}`);
      expectedStdout.set(g.name, readFileSync(f).toString('latin1'));
    }
  }
  return { file, scenario, programs, expectedStdout };
}

/**
 * Reads a YAML file and validates it with `schema`: any mistake is one UserError naming the file,
 * the line or field, and the reason (`what` says what the file is, for "cannot read the …").
 */
export function readYaml<T>(file: string, schema: z.ZodType<T>, what: string): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(
      file,
      `cannot read the ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) {
    const err = doc.errors[0]!;
    const at = err.linePos?.[0];
    throw new UserError(
      at ? `${file}:${at.line}:${at.col}` : file,
      `YAML syntax: ${err.message.split('\n')[0]}`,
    );
  }
  const parsed = schema.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    let reason = issue.message;
    if (issue.code === 'unrecognized_keys')
      reason = `unknown field ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    throw new UserError(`${file}: ${field}`, reason);
  }
  return parsed.data;
}

/** A program path relative to the scenario, or a shipped guest's name. */
function resolveProgram(scenarioFile: string, program: string): string | undefined {
  const candidates = [
    isAbsolute(program) ? program : join(dirname(scenarioFile), program),
    join(SHIPPED_GUESTS, program),
    join(SHIPPED_GUESTS, `${program}.elf`),
  ];
  return candidates.find((c) => existsSync(c));
}
