/**
 * child_process.spawnSync after a full garbage collection. Spawning forks the test process, and
 * the kernel refuses the fork (ENOMEM, a null exit status) when the process maps more memory than
 * the machine could back: every simulation an earlier test made holds a lazily backed guest RAM
 * SharedArrayBuffer until it is collected (here fork fails from six 4 GiB ones on). vitest runs
 * the tests with --expose-gc (vitest.config.ts), so the dead ones go first.
 */
import * as child from 'node:child_process';

export const spawnSync: typeof child.spawnSync = ((...args: Parameters<typeof child.spawnSync>) => {
  (globalThis as { gc?: () => void }).gc?.();
  return child.spawnSync(...args);
}) as typeof child.spawnSync;
