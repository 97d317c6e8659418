/**
 * The description of the machine and checkout a run happened on (BenchReport.machine): results
 * from different CPUs, core counts, Node versions or commits are not comparable as equals, and
 * `--compare` says so.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MachineInfo } from './types.js';

/** The nestsim package root: the nearest directory above this file with nestsim's package.json. */
function packageRoot(): string | undefined {
  for (let d = dirname(fileURLToPath(import.meta.url)); ; d = dirname(d)) {
    const p = join(d, 'package.json');
    if (existsSync(p)) {
      try {
        if ((JSON.parse(readFileSync(p, 'utf8')) as { name?: string }).name === 'nestsim') return d;
      } catch {
        // not a readable package.json: keep looking
      }
    }
    if (dirname(d) === d) return undefined;
  }
}

/** Output of `git args` in `cwd`, or undefined when git or the checkout is missing. */
function git(cwd: string, args: string[]): string | undefined {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** This machine and checkout. */
export function machineInfo(): MachineInfo {
  const root = packageRoot();
  let version = 'unknown';
  let commit: string | null = null;
  let dirty: boolean | null = null;
  if (root) {
    version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
    const head = git(root, ['rev-parse', 'HEAD']);
    if (head) {
      commit = head;
      const status = git(root, ['status', '--porcelain', '--untracked-files=no']);
      dirty = status === undefined ? null : status.length > 0;
    }
  }
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() || os.machine(),
    logicalCores: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    os: `${os.type()} ${os.release()} (${process.platform} ${process.arch})`,
    node: process.version,
    nestsim: version,
    commit,
    dirty,
  };
}
